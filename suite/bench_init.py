"""``softmax-suite bench init``: asv benchmarks of a third-party kernel, in its own repository.

Writes, into the repository root (``--dir``):

* ``asv.conf.json``: the current environment (environment_type "existing",
  so ``asv run --python=same``), benchmark_dir ``benchmarks``, results and HTML
  under ``.asv/``, the current git branch (or main);
* ``benchmarks/__init__.py`` (empty) and ``benchmarks/bench_softmax_suite.py``:
  a dozen lines that configure :mod:`suite.asv_target` for TARGET, so the
  benchmark code stays in the suite and the repository holds only its settings.

Existing files are not overwritten without ``force``.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from suite.adapter import UsageError
from suite.asv_target import BASELINES, DEFAULT_DTYPES, DEFAULT_SHAPES, check_config, is_file_target

BENCH_MODULE = "bench_softmax_suite.py"

MODULE_TEMPLATE = '''\
"""asv benchmarks of {target} ({op}, {backend}/{device}), written by `softmax-suite bench init`.

The benchmark code is suite.asv_target's (pip install 'softmax-suite[bench]'); edit the
shapes ("RxC": R rows of C logits) and dtypes here. TARGET is resolved against this
repository's root, so asv benchmarks the checkout it runs in.
"""
from pathlib import Path

from suite.asv_target import benchmarks_for

globals().update(benchmarks_for(
    {target!r},
    op={op!r},
    backend={backend!r},
    device={device!r},
    shapes={shapes!r},
    dtypes={dtypes!r},
    baseline={baseline!r},  # track_speed_vs_baseline: the built-in {baseline_name} timed side by side
    root=Path(__file__).resolve().parents[1],  # the directory of asv.conf.json
))
'''


def current_branch(directory: Path) -> str:
    """The checked-out git branch in ``directory`` (also before the first commit), else main."""
    try:
        proc = subprocess.run(
            ["git", "symbolic-ref", "--short", "HEAD"], cwd=directory, capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return "main"
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else "main"


def asv_config(directory: Path) -> dict:
    return {
        "version": 1,
        "project": directory.resolve().name,
        "repo": ".",
        "branches": [current_branch(directory)],
        "environment_type": "existing",
        "launch_method": "forkserver",  # imports the benchmarks (and the backend) once, then forks each benchmark
        "benchmark_dir": "benchmarks",
        "env_dir": ".asv/env",
        "results_dir": ".asv/results",
        "html_dir": ".asv/html",
        "build_command": [],
        "install_command": [],
        "uninstall_command": [],
    }


def _relative_target(target: str, directory: Path) -> str:
    """A file TARGET as a path relative to the repository root (checked to exist); a module as given."""
    if not is_file_target(target):
        return target
    where, _, attr = target.rpartition(":")
    path = Path(where)
    full = path if path.is_absolute() else directory / path
    if not full.is_file():
        raise UsageError(f"no such file {str(full)!r}; a TARGET path is relative to --dir ({str(directory)!r})")
    try:
        path = full.resolve().relative_to(directory.resolve())
    except ValueError:  # outside the repository: keep it as given
        return target
    return f"{path.as_posix()}:{attr}"


def init(target: str, op: str, backend: str = "numpy", device: str = "cpu", shapes=(), dtypes=(),
         directory: str | Path = ".", force: bool = False, baseline: bool = True) -> list[str]:
    """Write the three files; return the lines to print (what was written, what to run next)."""
    shapes, dtypes = list(shapes or DEFAULT_SHAPES), list(dtypes or DEFAULT_DTYPES)
    check_config(target, op, backend, device, shapes, dtypes)
    root = Path(directory)
    if not root.is_dir():
        raise UsageError(f"no such directory {str(root)!r}; pass --dir the repository root")
    target = _relative_target(target, root)
    module = MODULE_TEMPLATE.format(
        target=target, op=op, backend=backend, device=device, shapes=shapes, dtypes=dtypes, baseline=baseline,
        baseline_name=BASELINES[backend, device],
    )
    files = {
        root / "asv.conf.json": json.dumps(asv_config(root), indent=4) + "\n",
        root / "benchmarks" / "__init__.py": "",
        root / "benchmarks" / BENCH_MODULE: module,
    }
    if not force:
        for path in files:
            if path.exists():
                raise UsageError(f"{path} exists; pass --force to overwrite it")
    (root / "benchmarks").mkdir(exist_ok=True)
    for path, text in files.items():
        path.write_text(text)
    lines = [f"wrote {path}" for path in files]
    lines += [
        f"benchmarks of {target} ({op}, {backend}/{device}): {len(shapes)} shape(s) x {len(dtypes)} dtype(s), "
        "cold and warm paths; results under .asv/ (add it to .gitignore)",
        f"next, in {root}:",
        "  asv machine --yes                                              # once per machine",
        "  asv check --python=same                                        # the benchmarks import",
        "  asv run --python=same --set-commit-hash $(git rev-parse HEAD)  # per commit, with it checked out",
        "  softmax-suite bench compare BASE HEAD                          # exit 1 on a >= 20% slowdown",
    ]
    return lines
