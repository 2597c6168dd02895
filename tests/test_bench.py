"""The asv benchmarks and the regression gate (``softmax-suite bench compare``).

* a planted 3x slowdown in a throwaway git repository is caught by the gate (exit 1,
  the benchmark named), identical results pass (exit 0), bad input exits 2;
* every benchmark in benchmarks/ runs, in this process, over every parameter
  combination, with SOFTMAX_SUITE_BENCH_SMOKE=1 (tiny shapes);
* ``asv check`` accepts the suite.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import itertools
import json
import math
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from suite import bench_gate
from suite.cli import main

ROOT = Path(__file__).resolve().parents[1]

needs_asv = pytest.mark.skipif(importlib.util.find_spec("asv") is None, reason="asv is not installed (the 'bench' extra)")
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

PLANTED_BENCHMARK = '''\
import pathlib
import time

WORK = pathlib.Path(__file__).resolve().parents[1] / "work.txt"


class Planted:
    number = 1
    repeat = (3, 3, 10.0)
    rounds = 1
    warmup_time = 0.0

    def time_planted(self):
        time.sleep(float(WORK.read_text()))

    def track_rate(self):
        return 1.0 / float(WORK.read_text())


class Sized:
    params = (["small", "large"],)
    param_names = ["size"]
    number = 1
    repeat = (3, 3, 10.0)
    rounds = 1
    warmup_time = 0.0

    def time_sized(self, size):
        time.sleep(float(WORK.read_text()) if size == "large" else 0.02)


def time_steady():
    time.sleep(0.02)
'''


def _asv_env(home: Path) -> dict:
    env = dict(os.environ)
    env["HOME"] = str(home)  # asv machine writes ~/.asv-machine.json
    for key in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
        env[key] = "softmax-suite tests"
    for key in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
        env[key] = "tests@example.invalid"
    return env


def _run(args, cwd: Path, env: dict) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"{' '.join(map(str, args))} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A git repo with one benchmark whose sleep is read from work.txt, benchmarked at two commits:
    c1 (20 ms) and c2 (60 ms: a planted 3x slowdown). Returns (config path, c1, c2)."""
    repo = tmp_path_factory.mktemp("planted")
    home = tmp_path_factory.mktemp("home")
    env = _asv_env(home)
    (repo / "benchmarks").mkdir()
    (repo / "benchmarks" / "__init__.py").write_text("")
    (repo / "benchmarks" / "bench_planted.py").write_text(PLANTED_BENCHMARK)
    conf = {
        "version": 1, "project": "planted", "repo": ".", "branches": ["main"], "environment_type": "existing",
        "benchmark_dir": "benchmarks", "env_dir": ".asv/env", "results_dir": "results", "html_dir": "html",
        "build_command": [], "install_command": [], "uninstall_command": [],
    }
    (repo / "asv.conf.json").write_text(json.dumps(conf, indent=1))
    asv = [sys.executable, "-m", "asv"]
    git = ["git", "-c", "commit.gpgsign=false"]
    _run(git + ["init", "-q", "-b", "main"], repo, env)
    _run(asv + ["machine", "--yes", "--machine", "testbox"], repo, env)
    commits = []
    for seconds in ("0.02", "0.06"):
        (repo / "work.txt").write_text(seconds)
        _run(git + ["add", "-A"], repo, env)
        _run(git + ["commit", "-q", "-m", f"work {seconds}"], repo, env)
        commit = _run(git + ["rev-parse", "HEAD"], repo, env).strip()
        _run(asv + ["run", "--python=same", "--set-commit-hash", commit, "--machine", "testbox"], repo, env)
        commits.append(commit)
    return repo / "asv.conf.json", commits[0], commits[1]


@needs_asv
@needs_git
def test_gate_catches_planted_slowdown(planted, capsys):
    config, c1, c2 = planted
    # factor 2 against a planted 3x: unchanged sleep-based benchmarks can drift 30% on a busy
    # machine, and that drift must not decide which rows the gate lists
    assert main(["bench", "compare", c1, c2, "--config", str(config), "--factor", "2"]) == 1
    out = capsys.readouterr().out
    assert "bench_planted.Planted.time_planted" in out
    assert "bench_planted.Planted.track_rate" in out  # 50/s -> 16.7/s: bigger is better, inverted
    assert "bench_planted.Sized.time_sized(large)" in out  # paired by name and parameters
    assert "time_sized(small)" not in out and "time_steady" not in out
    assert "3 regressions" in out


@needs_asv
@needs_git
def test_gate_passes_identical_results_and_short_hashes(planted, capsys):
    config, c1, c2 = planted
    assert main(["bench", "compare", c1, c1, "--config", str(config)]) == 0
    assert "no regressions" in capsys.readouterr().out
    assert main(["bench", "compare", c2[:7], c2, "--config", str(config), "--machine", "testbox"]) == 0
    assert main(["bench", "compare", c2, c1, "--config", str(config), "--factor", "2"]) == 0  # faster is fine
    assert main(["bench", "compare", c1, c2, "--config", str(config), "--factor", "5"]) == 0


@needs_asv
@needs_git
def test_gate_bad_input_exits_2(planted, capsys, tmp_path):
    config, c1, c2 = planted
    assert main(["bench", "compare", c1, "deadbeef", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "deadbeef" in err and len(err.strip().splitlines()) == 1
    assert main(["bench", "compare", c1, c2, "--config", str(config), "--machine", "nope"]) == 2
    assert main(["bench", "compare", c1, c2, "--config", str(config), "--factor", "0.5"]) == 2
    assert main(["bench", "compare", c1, c2, "--config", str(tmp_path / "missing.json")]) == 2
    empty = tmp_path / "asv.conf.json"
    empty.write_text(json.dumps({"version": 1, "repo": ".", "results_dir": "results"}))
    assert main(["bench", "compare", c1, c2, "--config", str(empty)]) == 2
    assert "no asv results" in capsys.readouterr().err


def test_gate_help_says_why_it_exists(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "compare", "--help"])
    assert "exits 0" in capsys.readouterr().out


# --- every benchmark, with tiny shapes ----------------------------------------------------------
# In this process, except the combinations of an adapter that runs alone in its worker
# (Adapter.own_worker: PaddlePaddle segfaults in a process that has imported TensorFlow, say):
# those run in a fresh interpreter per adapter, as asv runs every benchmark in a process of its own.

BENCH_PREFIXES = ("time_", "peakmem_", "mem_", "track_")


def _benchmark_classes():
    package = importlib.import_module("benchmarks")
    for info in pkgutil.iter_modules(package.__path__, "benchmarks."):
        module = importlib.import_module(info.name)
        for name, cls in vars(module).items():
            if inspect.isclass(cls) and cls.__module__ == module.__name__:
                methods = [m for m in dir(cls) if m.startswith(BENCH_PREFIXES)]
                if methods:
                    yield f"{info.name}.{name}", cls, methods


def _own_worker_adapters() -> list[str]:
    """The available built-ins that must not share a process with the others."""
    from suite.adapter import builtin_adapters

    return [a.name for a in builtin_adapters() if a.own_worker and a.available]


def _run_smoke(adapter: str | None = None, exclude: tuple[str, ...] = ()) -> tuple[int, int, int]:
    """Every benchmark over every parameter combination, in smoke mode; ``adapter``: only the
    combinations with that adapter; ``exclude``: none with these. (classes, ran, skipped)."""
    ran, skipped, classes = 0, 0, 0
    for label, cls, methods in _benchmark_classes():
        classes += 1
        assert isinstance(getattr(cls, "version", None), int), f"{label} has no version"
        params = getattr(cls, "params", None)
        combos = list(itertools.product(*params)) if params else [()]
        if params:
            assert len(cls.param_names) == len(params), label
        where = cls.param_names.index("adapter") if params and "adapter" in cls.param_names else None
        named = [c[where] if where is not None else None for c in combos]
        combos = [c for c, name in zip(combos, named) if (adapter is None or name == adapter) and name not in exclude]
        if not combos:
            continue
        cache = (cls().setup_cache(),) if hasattr(cls, "setup_cache") else ()
        for combo in combos:
            for method in methods:
                bench = cls()
                args = cache + tuple(combo)
                try:
                    if hasattr(bench, "setup"):
                        bench.setup(*args)
                except NotImplementedError:
                    skipped += 1
                    continue
                try:
                    value = getattr(bench, method)(*args)
                    if method.startswith("track_"):
                        assert isinstance(value, float) and math.isfinite(value) and value > 0, (label, method, combo, value)
                        assert getattr(getattr(cls, method), "unit", None), f"{label}.{method} has no unit"
                finally:
                    if hasattr(bench, "teardown"):
                        bench.teardown(*args)
                ran += 1
    return classes, ran, skipped


def test_every_benchmark_runs_in_smoke_mode(monkeypatch):
    monkeypatch.setenv("SOFTMAX_SUITE_BENCH_SMOKE", "1")
    alone = _own_worker_adapters()
    classes, ran, skipped = _run_smoke(exclude=tuple(alone))
    for name in alone:
        code = f"import json, sys; sys.path.insert(0, {str(ROOT / 'tests')!r}); from test_bench import _run_smoke; print(json.dumps(_run_smoke(adapter={name!r})))"
        child = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])})
        assert child.returncode == 0, f"{name}'s benchmarks {child.stderr[-3000:]}"
        ran += json.loads(child.stdout.strip().splitlines()[-1])[1]
    assert classes >= 8 and ran >= 100, (classes, ran, skipped)


def test_copy_fraction_is_the_yardsticks(monkeypatch):
    """asv's track_copy_fraction is suite.timing.measure_against_copy's fraction (the speed
    section's yardstick, timed beside the op), not the op over a copy timed apart."""
    from benchmarks import bench_ops
    from suite import timing

    monkeypatch.setenv("SOFTMAX_SUITE_BENCH_SMOKE", "1")
    seen = []

    def yardstick(target, others, **plan):
        seen.append((target, others))
        return {"copy_fraction": 0.625}

    monkeypatch.setattr(timing, "measure_against_copy", yardstick)
    args = ("numpy-reference", "softmax", "4096x1024", "float32", "cold")
    bench = bench_ops.OpBandwidth()
    bench.setup(*args)
    try:
        assert bench.track_copy_fraction(*args) == 0.625
        assert seen == [(bench.case, [])]
    finally:
        bench.teardown(*args)


def test_smoke_mode_shrinks_shapes(monkeypatch):
    from benchmarks import common

    monkeypatch.delenv("SOFTMAX_SUITE_BENCH_SMOKE", raising=False)
    assert common.real_shape("1024x32768") == (1024, 32768)
    monkeypatch.setenv("SOFTMAX_SUITE_BENCH_SMOKE", "1")
    assert common.real_shape("1024x32768") == (8, 64)


def test_grid_skips_what_cannot_run():
    from benchmarks import common
    from suite.adapter import builtin

    scipy = builtin("scipy")
    assert common.skip_reason(scipy, "gumbel_max", "4096x1024", "float32", "cold") == "scipy does not provide gumbel_max"
    assert "does not support bfloat16" in common.skip_reason(scipy, "softmax", "4096x1024", "bfloat16", "cold")
    assert "warm path" in common.skip_reason(scipy, "softmax", "4096x1024", "float32", "warm")
    assert "warm path" in common.skip_reason(builtin("torch-cuda"), "softmax", "4096x1024", "float32", "warm")
    assert common.warm_kind(builtin("torch-cpu"), "softmax") == "allocator"
    # an emulated device is never timed: without a GPU, triton-softmax runs on Triton's interpreter,
    # and a benchmark process has not set TRITON_INTERPRET (Triton would look for a GPU driver)
    triton = builtin("triton-softmax")
    if triton.device == "triton-interpret":
        assert "not measured on triton-interpret" in common.skip_reason(triton, "softmax", "4096x1024", "float32", "cold")
    # the low-precision grid: one shape, cold only
    assert common.LOW_PRECISION_GRID[2] == list(common.LOW_PRECISION_SHAPES)
    assert common.LOW_PRECISION_GRID[4] == ["cold"]


@needs_asv
def test_asv_check_accepts_the_suite(tmp_path):
    env = _asv_env(tmp_path)
    out = _run([sys.executable, "-m", "asv", "check", "--python=same"], ROOT, env)
    assert "No problems found" in out
