"""Every install path works: what suite/ imports is declared, and each CLI path runs where it is installed.

The static test reads every import in suite/ and implementations/. The others run the command line
in virtual environments built from the declared dependencies only, as users install them
(``pip install .``, ``pip install '.[torch]'``, ``pip install '.[jax]'``): .ci/run builds them and
names them in SOFTMAX_SUITE_VENVS ("core=DIR,torch=DIR,jax=DIR"); without it these tests skip with
that reason. To run them here::

    python -m venv /tmp/core && /tmp/core/bin/pip install .
    SOFTMAX_SUITE_VENVS=core=/tmp/core python -m pytest tests/test_install_paths.py
"""
from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from suite.extras import EXTRA_OF_MODULE
from suite.ops import OPS

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# import name -> the distribution that the extra names for it, where they differ (llvmlite comes with numba)
DISTRIBUTION = {"paddle": "paddlepaddle", "tensorflow": "tensorflow-cpu", "llvmlite": "numba", "jaxlib": "jaxlib"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _extra_requirements(extra: str, seen=()) -> set[str]:
    """The distributions an extra installs, following self-references (``softmax-suite[a,b]``)."""
    names = set()
    for req in PYPROJECT["optional-dependencies"][extra]:
        if _name(req) == "softmax-suite":
            for inner in re.search(r"\[(.*)\]", req).group(1).split(","):
                if inner not in seen:
                    names |= _extra_requirements(inner, seen + (extra,))
        else:
            names.add(_name(req))
    return names


def _third_party_imports(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("suite", "implementations", "benchmarks"):
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_import_is_a_core_dependency_or_behind_its_extra():
    core = {_name(r) for r in PYPROJECT["dependencies"]}
    undeclared = {}
    for folder in ("suite", "implementations"):
        for module, files in _third_party_imports(ROOT / folder).items():
            distribution = _name(DISTRIBUTION.get(module, module))
            if distribution in core:
                continue
            extra = EXTRA_OF_MODULE.get(module)
            if extra is None or distribution not in _extra_requirements(extra):
                undeclared[module] = sorted(files)
    assert not undeclared, f"imported but neither a core dependency nor in its extra (suite/extras.py): {undeclared}"


def test_the_oracle_is_a_core_dependency():
    """A plain install certifies: the oracle's mpmath must come with it (it was only in the test extra)."""
    assert "mpmath" in {_name(r) for r in PYPROJECT["dependencies"]}


# --------------------------------------------------------------------------- the environments users build

VENVS = dict(pair.split("=", 1) for pair in os.environ.get("SOFTMAX_SUITE_VENVS", "").split(",") if "=" in pair)


def venv(name: str) -> Path:
    if name not in VENVS:
        pytest.skip(f"no {name!r} environment: set SOFTMAX_SUITE_VENVS={name}=DIR to a venv with `pip install "
                    f"'.{'' if name == 'core' else f'[{name}]'}'` (.ci/run builds them)")
    return Path(VENVS[name])


def cli(env_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """softmax-suite as that environment installed it, from outside the checkout (no source on the path)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(env_dir / "bin" / "softmax-suite"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)


@pytest.mark.parametrize("op", list(OPS))
def test_a_plain_install_certifies_the_numpy_reference(op, tmp_path):
    done = cli(venv("core"), "certify", "numpy-reference", "--op", op, "--no-speed", "--quiet",
               "--report", str(tmp_path / "r"), cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    cert = json.loads((tmp_path / "r" / "certificate.json").read_text())
    assert cert["verdict"] == "certified" and not cert["suite_errors"]


def test_a_plain_install_names_the_extra_of_every_other_path(tmp_path):
    env_dir = venv("core")
    for args in (["--help"], ["certify", "--help"], ["run", "--help"], ["bench", "--help"], ["--version"]):
        done = cli(env_dir, *args, cwd=tmp_path)
        assert done.returncode == 0, f"{args}: {done.stderr[-2000:]}"
    for args, extra in (
        (["certify", "torch-cpu", "--op", "softmax", "--no-speed"], "torch"),
        (["certify", "jax", "--op", "softmax", "--no-speed"], "jax"),
        (["bench", "compare", "HEAD~1", "HEAD"], "bench"),
        (["run", "--implementations", "torch-cpu", "--no-speed"], "torch"),
    ):
        done = cli(env_dir, *args, cwd=tmp_path)
        assert done.returncode == 2, f"{args}: exit {done.returncode}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        assert f"softmax-suite[{extra}]" in done.stderr, done.stderr
        assert done.stderr.strip().splitlines()[-1].startswith("softmax-suite: error:") and "Traceback" not in done.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    speed = subprocess.run([str(env_dir / "bin" / "python"), "-m", "suite.speed", "--shape", "64x1024", "--repeats", "2"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert speed.returncode == 0 and "softmax-suite[fast]" in speed.stdout, speed.stdout[-2000:] + speed.stderr[-2000:]
    certified = cli(env_dir, "certify", "numpy-reference", "--op", "softmax", "--dtypes", "float32",
                    "--report", str(tmp_path / "cert"), cwd=tmp_path)  # with its speed section and HTML
    assert certified.returncode == 0, certified.stdout[-2000:] + certified.stderr[-2000:]
    assert "softmax-suite[reports]" in (tmp_path / "cert" / "index.html").read_text()  # the plots' extra
    merged = cli(env_dir, "matrix", str(tmp_path / "cert"), "--report", str(tmp_path / "matrix"), cwd=tmp_path)
    assert merged.returncode == 0, merged.stderr[-2000:]
    ran = cli(env_dir, "run", "--implementations", "numpy-reference", "--ops", "logsumexp", "--dtypes", "float64",
              "--no-speed", "--report", str(tmp_path / "run"), cwd=tmp_path)
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]


@pytest.mark.parametrize("extra, implementation", [("torch", "torch-cpu"), ("jax", "jax")])
def test_a_backend_extra_certifies_its_reference(extra, implementation, tmp_path):
    done = cli(venv(extra), "certify", implementation, "--op", "log_softmax", "--no-speed", "--quiet",
               "--report", str(tmp_path / "r"), cwd=tmp_path)
    cert = json.loads((tmp_path / "r" / "certificate.json").read_text())
    assert not cert["suite_errors"], cert["suite_errors"]
    decided = {p["name"] for p in cert["properties"] if p["status"] in ("pass", "fail", "implementation-defined")}
    assert {"definition", "grad_closed_form"} <= decided, done.stdout[-3000:]
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
