"""asv for third parties: ``softmax-suite bench init`` and suite.asv_target.

* ``bench init`` writes asv.conf.json and benchmarks/, refuses to overwrite
  (exit 2, one line) unless --force, and rejects a bad op, backend, shape,
  dtype or target file with one line (exit 2);
* the generated module, imported in this process, yields asv classes whose
  benchmarks run (SOFTMAX_SUITE_BENCH_SMOKE=1) and skip a warm path the target
  cannot take, with the reason;
* end to end, in a throwaway git repository holding a tiny NumPy softmax:
  ``asv check`` accepts the generated benchmarks, ``asv run`` at two commits,
  the second with a planted slowdown in the target, and ``softmax-suite bench
  compare`` exits 1 naming the slowed benchmarks (0 for a commit against itself).
"""
from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
from test_bench import _asv_env, _run, needs_asv, needs_git

from suite.cli import main

TARGET = '''\
import time

import numpy as np


def softmax(x, axis=-1, out=None):
    {work}e = np.exp(x - x.max(axis=axis, keepdims=True), out=out)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def softmax_no_out(x, axis=-1):
    return softmax(x, axis)
'''
FAST, SLOW = "", "time.sleep(0.002)  # the planted slowdown: 100x on 8x64 logits\n    "
SHAPE = "16x256"  # shrunk to 8x64 by SOFTMAX_SUITE_BENCH_SMOKE=1


def _write_target(repo: Path, work: str) -> None:
    (repo / "kern").mkdir(exist_ok=True)
    (repo / "kern" / "softmax.py").write_text(TARGET.format(work=work))


def _init(repo: Path, *extra: str, target: str = "kern/softmax.py:softmax") -> int:
    return main(["bench", "init", target, "--op", "softmax", "--shapes", SHAPE, "--dir", str(repo), *extra])


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    return err


def test_init_writes_refuses_to_overwrite_and_forces(tmp_path, capsys):
    _write_target(tmp_path, FAST)
    assert _init(tmp_path) == 0
    out = capsys.readouterr().out
    for name in ("asv.conf.json", "benchmarks/__init__.py", "benchmarks/bench_softmax_suite.py"):
        assert (tmp_path / name).is_file() and f"wrote {tmp_path / name}" in out
    assert "asv run --python=same --set-commit-hash $(git rev-parse HEAD)" in out
    assert "softmax-suite bench compare BASE HEAD" in out
    conf = json.loads((tmp_path / "asv.conf.json").read_text())
    assert conf["environment_type"] == "existing" and conf["benchmark_dir"] == "benchmarks" and conf["repo"] == "."
    assert conf["branches"] == ["main"]  # not a git repository: main
    module = (tmp_path / "benchmarks" / "bench_softmax_suite.py").read_text()
    assert "'kern/softmax.py:softmax'" in module and f"[{SHAPE!r}]" in module

    (tmp_path / "benchmarks" / "bench_softmax_suite.py").write_text("# mine\n")
    assert _init(tmp_path) == 2
    assert "asv.conf.json exists; pass --force" in _one_line_error(capsys)
    assert (tmp_path / "benchmarks" / "bench_softmax_suite.py").read_text() == "# mine\n"  # nothing written
    assert _init(tmp_path, "--force", "--dtypes", "float32,float64", "--no-baseline") == 0
    module = (tmp_path / "benchmarks" / "bench_softmax_suite.py").read_text()
    assert "['float32', 'float64']" in module and "baseline=False" in module


@pytest.mark.parametrize(
    "args, words",
    [
        (["--op", "sofmax"], "unknown op 'sofmax'"),
        (["--op", "softmax", "--backend", "tensorflow"], "unsupported backend/device tensorflow/cpu"),
        (["--op", "softmax", "--device", "cuda"], "unsupported backend/device numpy/cuda"),
        (["--op", "softmax", "--shapes", "1024"], "bad shape '1024'"),
        (["--op", "softmax", "--dtypes", "float8"], "unknown dtype 'float8'"),
    ],
)
def test_init_rejects_bad_input_with_one_line(tmp_path, capsys, args, words):
    _write_target(tmp_path, FAST)
    assert main(["bench", "init", "kern/softmax.py:softmax", *args, "--dir", str(tmp_path)]) == 2
    assert words in _one_line_error(capsys)
    assert not (tmp_path / "asv.conf.json").exists()


def test_init_rejects_a_missing_target_file_and_a_bad_target(tmp_path, capsys):
    assert _init(tmp_path, target="kern/missing.py:softmax") == 2
    assert "missing.py" in _one_line_error(capsys)
    assert _init(tmp_path, target="kern.softmax") == 2
    assert "package.module:function" in _one_line_error(capsys)


def test_init_help_explains_with_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "init", "--help"])
    out = capsys.readouterr().out
    assert "example:" in out and "asv.conf.json" in out and "--force" in out


# --- the generated module, in this process ----------------------------------------------------


def _load_generated(repo: Path):
    path = repo / "benchmarks" / "bench_softmax_suite.py"
    spec = importlib.util.spec_from_file_location(f"_generated_bench_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_benchmarks_run_and_skip_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("SOFTMAX_SUITE_BENCH_SMOKE", "1")
    monkeypatch.chdir(tmp_path.parent)  # the target is resolved against the repository, not the cwd
    _write_target(tmp_path, FAST)
    assert _init(tmp_path) == 0
    module = _load_generated(tmp_path)
    assert {"SoftmaxTime", "SoftmaxBandwidth", "SoftmaxVsBaseline"} <= set(vars(module))
    for path in ("cold", "warm"):  # the target takes out=: both paths run
        bench = module.SoftmaxTime()
        bench.setup(SHAPE, "float32", path)
        bench.time_op(SHAPE, "float32", path)
        bench.teardown(SHAPE, "float32", path)
        bench = module.SoftmaxBandwidth()
        bench.setup(SHAPE, "float32", path)
        for method in ("track_gbps", "track_copy_fraction"):
            value = getattr(bench, method)(SHAPE, "float32", path)
            assert math.isfinite(value) and value > 0 and getattr(type(bench), method).unit
        bench.teardown(SHAPE, "float32", path)
    bench = module.SoftmaxVsBaseline()
    bench.setup(SHAPE, "float64")
    assert bench.track_speed_vs_baseline(SHAPE, "float64") > 0
    bench.teardown(SHAPE, "float64")

    from suite.asv_target import benchmarks_for

    no_out = benchmarks_for("kern/softmax.py:softmax_no_out", op="softmax", shapes=[SHAPE], root=tmp_path)
    bench = no_out["SoftmaxTime"]()
    with pytest.raises(NotImplementedError, match="takes no out="):
        bench.setup(SHAPE, "float32", "warm")
    bench.teardown(SHAPE, "float32", "warm")  # asv calls it after a skip too


# --- end to end: asv at two commits, a planted slowdown, the gate ------------------------------


@pytest.fixture(scope="module")
def third_party(tmp_path_factory):
    """A kernel repository set up by ``bench init`` and benchmarked by asv at two commits: c1, and
    c2 with a planted slowdown in the target. Returns (repo, env, config, c1, c2)."""
    repo = tmp_path_factory.mktemp("kernels")
    env = _asv_env(tmp_path_factory.mktemp("home"))
    env["SOFTMAX_SUITE_BENCH_SMOKE"] = "1"
    asv = [sys.executable, "-m", "asv"]
    git = ["git", "-c", "commit.gpgsign=false"]
    _run(git + ["init", "-q", "-b", "main"], repo, env)
    _write_target(repo, FAST)
    assert _init(repo) == 0
    _run(asv + ["machine", "--yes", "--machine", "testbox"], repo, env)
    commits = []
    for work in (FAST, SLOW):
        _write_target(repo, work)  # the commit benchmarked is the one checked out
        _run(git + ["add", "kern", "benchmarks", "asv.conf.json"], repo, env)
        _run(git + ["commit", "-q", "-m", "slower" if work else "kernel"], repo, env)
        commit = _run(git + ["rev-parse", "HEAD"], repo, env).strip()
        _run(asv + ["run", "--python=same", "--set-commit-hash", commit, "--machine", "testbox"], repo, env)
        commits.append(commit)
    return repo, env, repo / "asv.conf.json", commits[0], commits[1]


@needs_asv
@needs_git
def test_gate_catches_a_slowdown_planted_in_the_target(third_party, capsys):
    _, _, config, c1, c2 = third_party
    assert main(["bench", "compare", c1, c2, "--config", str(config), "--factor", "2"]) == 1
    out = capsys.readouterr().out
    assert f"bench_softmax_suite.SoftmaxTime.time_op({SHAPE}, float32, cold)" in out
    assert f"bench_softmax_suite.SoftmaxTime.time_op({SHAPE}, float32, warm)" in out
    assert f"bench_softmax_suite.SoftmaxBandwidth.track_gbps({SHAPE}, float32, cold)" in out
    assert f"bench_softmax_suite.SoftmaxVsBaseline.track_speed_vs_baseline({SHAPE}, float32)" in out
    assert main(["bench", "compare", c1, c1, "--config", str(config)]) == 0
    assert "no regressions" in capsys.readouterr().out


@needs_asv
@needs_git
def test_asv_check_accepts_the_generated_benchmarks(third_party):
    repo, env, *_ = third_party
    out = _run([sys.executable, "-m", "asv", "check", "--python=same"], repo, env)
    assert "No problems found" in out
