"""softmax-suite's command line: help, usage errors (exit 2, one line), certify verdicts and every flag."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from suite.adapter import builtin_adapters
from suite.cli import main

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "tests" / "targets" / "bad_targets.py"
NAIVE = ROOT / "implementations" / "broken" / "naive_softmax.py"


def run_cli(*args, cwd=ROOT, timeout=600):
    exe = Path(sys.executable).with_name("softmax-suite")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "suite.cli"]
    return subprocess.run(cmd + list(args), cwd=cwd, capture_output=True, text=True, timeout=timeout)


def certificate(directory: Path) -> dict:
    return json.loads((directory / "certificate.json").read_text())


# --------------------------------------------------------------------------- help


def test_help_explains_the_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "certify" in out and "run" in out and "softmax-suite run" in out


@pytest.mark.parametrize("command, words", [("certify", ["TARGET", "--op", "--dtypes", "--timeout", "--policy", "exit status"]), ("run", ["matrix", "--report", "exit status"])])
def test_subcommand_help(capsys, command, words):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps long help lines
    for word in words + [a.name for a in builtin_adapters()]:  # the built-ins, from the registry
        assert word in out


def test_console_script_help():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "certify" in result.stdout


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "certify" in capsys.readouterr().out


# --------------------------------------------------------------------------- usage errors


def _usage_error(capsys, argv, *needles):
    assert main(argv) == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("softmax-suite: error:")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize(
    "argv, needles",
    [
        (["certify", "no_such_module_xyz:softmax", "--op", "softmax"], ["no_such_module_xyz", "cannot import"]),
        (["certify", "tests/targets/no_such_file.py:softmax", "--op", "softmax"], ["no such file"]),
        (["certify", f"{TARGETS}:missing", "--op", "softmax"], ["no attribute", "missing"]),
        (["certify", f"{TARGETS}:NOT_CALLABLE", "--op", "softmax"], ["not callable"]),
        (["certify", "implementations.numpy_reference", "--op", "softmax"], ["':attr'"]),
        (["certify", "implementations.numpy_reference:softmax", "--op", "softplus"], ["unknown op", "softmax"]),
        (["certify", "implementations.numpy_reference:softmax", "--op", "softmax", "--backend", "tensorflow"], ["unknown backend", "--backend"]),
        (["certify", "implementations.numpy_reference:softmax", "--op", "softmax", "--device", "tpu"], ["--device"]),
        (["certify", "implementations.numpy_reference:softmax", "--op", "softmax", "--dtypes", "float8"], ["unknown dtype", "float8"]),
        (["certify", "implementations.numpy_reference:softmax", "--op", "softmax", "--profile", "fast"], ["unknown profile"]),
        (["certify", "implementations.numpy_reference:softmax", "--op", "softmax", "--policy", "lenient"], ["unknown policy"]),
        (["certify", "implementations.numpy_reference:softmax", "--op", "softmax", "--timeout", "0"], ["--timeout"]),
        (["certify", "implementations.numpy_reference:softmax"], ["--op"]),
        (["certify", "implementations.numpy_reference:softmax", "--op", "softmax", "--seed", "abc"], ["--seed"]),
        (["run", "--implementations", "frobnitz"], ["unknown built-in implementation"]),
        (["run", "--ops", "softplus"], ["unknown op"]),
        (["run", "--dtypes", "float8"], ["unknown dtype"]),
        (["frobnicate"], ["invalid choice"]),
    ],
)
def test_usage_errors_are_one_line_exit_2(capsys, argv, needles):
    _usage_error(capsys, argv, *needles)


def test_backend_not_installed(capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    line = _usage_error(capsys, ["certify", "implementations.torch_cpu:softmax", "--op", "softmax", "--backend", "torch"], "torch is not installed")
    assert "pip install" in line


def test_cuda_unavailable_is_a_usage_error(capsys):
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is visible")
    _usage_error(capsys, ["certify", "implementations.torch_cuda:softmax", "--op", "softmax", "--backend", "torch", "--device", "cuda"], "CUDA")


def test_dtype_the_backend_lacks(capsys):
    # scipy's built-in adapter does not claim bfloat16; `run` skips it there, certify of a builtin refuses.
    from suite.adapter import UsageError
    from suite.certify import builtin_request

    with pytest.raises(UsageError, match="does not support dtype bfloat16"):
        builtin_request("scipy", "softmax", ["bfloat16"])


def test_usage_error_from_subprocess_has_no_traceback():
    result = run_cli("certify", "no_such_module_xyz:f", "--op", "softmax")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- verdicts


def test_reference_is_certified(tmp_path):
    report = tmp_path / "ref"
    result = run_cli("certify", "implementations.numpy_reference:softmax", "--op", "softmax", "--report", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "CERTIFIED" in result.stdout
    assert "property" in result.stdout and "worst error" in result.stdout  # the summary table
    assert "[" in result.stderr and "/" in result.stderr  # live progress
    cert = certificate(report)
    assert cert["certified"] and cert["verdict"] == "certified"
    assert cert["dtypes"] == ["float16", "bfloat16", "float32", "float64"]
    assert {p["name"] for p in cert["properties"]} >= {"finite_outputs", "definition", "sums_to_one"}
    for name in ("certificate.json", "certificate.md", "index.html"):
        assert (report / name).is_file()


def test_naive_softmax_fails_finite_outputs_with_a_counterexample(tmp_path):
    report = tmp_path / "naive"
    result = run_cli("certify", f"{NAIVE}:softmax", "--op", "softmax", "--dtypes", "float32", "--report", str(report),
                     "--properties", "output_contract,finite_outputs,definition,batch_independence,fully_masked_row,error_profile")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "NOT CERTIFIED" in result.stdout
    assert "finite_outputs" in result.stdout
    cert = certificate(report)
    assert not cert["certified"]
    finite = next(p for p in cert["properties"] if p["name"] == "finite_outputs")
    assert finite["status"] == "fail"
    outcome = finite["dtypes"]["float32"]
    assert outcome["counterexample"]["x"].startswith("np.array(")
    assert outcome["got"] and outcome["repro"].startswith("python -c")
    assert any(r.startswith("finite_outputs") for r in cert["reasons"])


def test_repro_line_reproduces(tmp_path):
    report = tmp_path / "naive"
    run_cli("certify", f"{NAIVE}:softmax", "--op", "softmax", "--dtypes", "float64", "--properties", "finite_outputs", "--report", str(report), "-q")
    outcome = next(p for p in certificate(report)["properties"] if p["name"] == "finite_outputs")["dtypes"]["float64"]
    repro = outcome["repro"]
    assert repro.startswith('python -c "') and repro.endswith('"')
    code = repro[len('python -c "') : -1]
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "nan" in done.stdout


def test_same_seed_same_certificate(tmp_path):
    def once(name, seed):
        report = tmp_path / name
        main(["certify", f"{NAIVE}:softmax", "--op", "softmax", "--dtypes", "float32", "--seed", str(seed), "--profile", "dev",
              "--properties", "finite_outputs,fully_masked_row,ulp_accuracy,error_profile", "--report", str(report), "-q"])
        cert = certificate(report)
        cert.pop("timings")
        cert.pop("speed")  # measured times: the rest is a function of the seed
        return cert

    first, second = once("a", 7), once("b", 7)
    assert first == second
    assert first["seed"] == 7 and first["profile"] == "dev"


def test_thorough_profile_and_jobs(tmp_path):
    report = tmp_path / "t"
    code = main(["certify", f"{TARGETS}:raises", "--op", "logsumexp", "--dtypes", "float64", "--profile", "thorough", "--jobs", "1",
                 "--properties", "output_contract,definition", "--report", str(report), "-q"])
    assert code == 1
    cert = certificate(report)
    assert cert["profile"] == "thorough"
    contract = next(p for p in cert["properties"] if p["name"] == "output_contract")["dtypes"]["float64"]
    assert "raised RuntimeError" in contract["message"]


def test_policy_is_recorded(tmp_path):
    report = tmp_path / "strict"
    code = main(["certify", "implementations.numpy_reference:logsumexp", "--op", "logsumexp", "--dtypes", "float64", "--policy", "strict",
                 "--properties", "definition,ulp_accuracy,empty_axis", "--report", str(report), "-q"])
    cert = certificate(report)
    assert cert["policy"] == "strict"
    assert code == (0 if cert["certified"] else 1)
    graded_failures = [p for p in cert["properties"] if p["status"] == "fail"]
    assert cert["certified"] == (not graded_failures)


def test_default_report_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["certify", "implementations.numpy_reference:logsumexp", "--op", "logsumexp", "--dtypes", "float32", "--properties", "definition", "-q"]) == 0
    found = list((tmp_path / "reports").glob("*/certificate.json"))
    assert len(found) == 1 and "logsumexp" in found[0].parent.name


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_torch_backend(tmp_path):
    report = tmp_path / "torch"
    code = main(["certify", "implementations.torch_cpu:softmax", "--op", "softmax", "--backend", "torch", "--device", "cpu", "--dtypes", "float32",
                 "--properties", "output_contract,definition,grad_closed_form", "--report", str(report), "-q"])
    cert = certificate(report)
    assert cert["backend"] == "torch" and cert["differentiable"]
    assert "torch" in cert["library_versions"]
    assert code == 0, cert["reasons"]


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="jax is not installed")
def test_jax_backend(tmp_path):
    report = tmp_path / "jax"
    code = main(["certify", "implementations.jax_jit:logsumexp", "--op", "logsumexp", "--backend", "jax", "--dtypes", "float64",
                 "--properties", "output_contract,definition", "--report", str(report), "-q"])
    cert = certificate(report)
    assert cert["backend"] == "jax" and "jax" in cert["library_versions"]
    assert code == 0, cert["reasons"]


# --------------------------------------------------------------------------- run


def test_run_subset_writes_matrix_and_certificates(tmp_path):
    report = tmp_path / "reports"
    result = run_cli("run", "--implementations", "numpy-reference,scipy,torch-cuda", "--ops", "logsumexp", "--dtypes", "float64", "--report", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("matrix.md", "matrix.html", "index.html", "matrix.json"):
        assert (report / name).is_file()
    assert (report / "numpy-reference" / "logsumexp" / "certificate.json").is_file()
    assert (report / "scipy" / "logsumexp" / "index.html").is_file()
    matrix = (report / "matrix.md").read_text()
    assert "numpy-reference" in matrix and "scipy" in matrix and "empty_axis" in matrix
    if "torch-cuda" in result.stdout and "unavailable" in result.stdout:
        assert "torch-cuda" in matrix  # unavailable backends appear with the reason


def test_builtin_name_as_target_and_properties_selection(tmp_path):
    report = tmp_path / "b"
    code = main(["certify", "numpy-reference", "--op", "logsumexp", "--dtypes", "float64", "--properties", "definition,empty_axis", "--report", str(report), "-q"])
    assert code == 0
    cert = certificate(report)
    assert cert["target"] == "numpy-reference" and cert["selected_properties"] == ["definition", "empty_axis"]
    assert [p["name"] for p in cert["properties"]] == ["definition", "empty_axis"]


def test_unknown_property_is_a_usage_error(capsys):
    _usage_error(capsys, ["certify", "numpy-reference", "--op", "softmax", "--properties", "sparkles"], "unknown property", "definition")


def test_run_check_flag(tmp_path):
    code = main(["run", "--implementations", "numpy-reference", "--ops", "logsumexp", "--dtypes", "float64", "--report", str(tmp_path), "--check", "-q"])
    assert code == 0
    assert (tmp_path / "numpy-reference" / "logsumexp" / "certificate.md").is_file()


# --------------------------------------------------------------------------- verdict rules


def _fake(status, prop, dtype="float32", **extra):
    from suite.isolation import Reply, Result, Unit

    outcome = {"property": prop, "op": "softmax", "dtype": dtype, "implementation": "x", "status": status, "message": extra.pop("message", ""),
               "counterexample": {}, "expected": "", "got": "", "repro": "", "observation": extra.pop("observation", ""), "stats": {}, **extra}
    return Result(Unit("property", {"builtin": "x"}, "softmax", prop, dtype), Reply.decode({"ok": True, "outcome": outcome}), 0.1)


def _verdict(results, policy="default"):
    from suite.certify import Request, _assemble

    r = Request({"builtin": "x"}, "softmax", "x", ("float32",), info={"name": "x", "backend": "numpy", "device": "cpu", "dtypes": ["float32"], "differentiable": False, "versions": {}})
    for i, res in enumerate(results):
        res.unit.index = i
    return _assemble(r, [], results, [], "ci", 0, 60.0, policy, 1.0)


def test_verdict_rules():
    ok = [_fake("pass", "definition"), _fake("implementation-defined", "fully_masked_row", observation="NaN")]
    assert _verdict(ok)["certified"]
    # a failing non-required property only matters under --policy strict
    graded_fail = ok + [_fake("fail", "posinf_logit", message="ordinary row disturbed")]
    assert _verdict(graded_fail)["certified"]
    assert not _verdict(graded_fail, "strict")["certified"]
    # a graded property below A fails only under strict
    grade_b = ok + [_fake("pass", "ulp_accuracy", grade="B", observation="grade B: max 9 ULP")]
    assert _verdict(grade_b)["certified"]
    assert not _verdict(grade_b, "strict")["certified"]
    # descriptive grades (low_precision_rounding) are behaviours, not failures, even under strict
    rounding = ok + [_fake("pass", "low_precision_rounding", grade="not correctly rounded")]
    assert _verdict(rounding, "strict")["certified"]
    # a required failure always fails
    assert not _verdict(ok + [_fake("fail", "finite_outputs", message="nan")])["certified"]


# --------------------------------------------------------------------------- failure paths through the CLI


def test_cli_timeout_flag_and_hang(tmp_path):
    report = tmp_path / "hang"
    result = run_cli("certify", f"{TARGETS}:hang", "--op", "softmax", "--dtypes", "float32", "--timeout", "1",
                     "--properties", "output_contract", "--report", str(report))
    assert result.returncode == 1
    assert "timed out after 1s" in result.stdout
    assert certificate(report)["timeout_s"] == 1.0


@pytest.mark.parametrize("target, words", [("segfault", "SIGSEGV"), ("returns_list", "returned list"), ("wrong_shape", "out.shape"), ("raises", "raised RuntimeError")])
def test_cli_bad_targets_exit_1(tmp_path, target, words):
    result = run_cli("certify", f"{TARGETS}:{target}", "--op", "softmax", "--dtypes", "float64", "--properties", "output_contract",
                     "--report", str(tmp_path / target))
    assert result.returncode == 1, result.stdout + result.stderr
    assert words in result.stdout and "NOT CERTIFIED" in result.stdout
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------- forward-only targets


def test_a_forward_only_target_skips_its_gradients_with_the_reason(tmp_path):
    pytest.importorskip("torch", reason="the forward-only declaration is for differentiable backends (torch)")
    target = ROOT / "implementations" / "correct" / "forward_only_softmax.py"
    result = run_cli("certify", f"{target}:softmax", "--op", "softmax", "--backend", "torch", "--forward-only", "--no-speed",
                     "--dtypes", "float32", "--properties", "output_contract,grad_closed_form", "--report", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    cert = certificate(tmp_path)
    assert cert["forward_only"] is True and cert["verdict"] == "certified"
    grad = next(p for p in cert["properties"] if p["name"] == "grad_closed_form")
    assert grad["status"] == "skipped" and "declared forward-only (--forward-only)" in grad["reason"]
    # undeclared, the same target fails its gradients: the flag is what makes the difference
    undeclared = run_cli("certify", f"{target}:softmax", "--op", "softmax", "--backend", "torch", "--no-speed",
                         "--dtypes", "float32", "--properties", "grad_closed_form", "--report", str(tmp_path / "u"))
    assert undeclared.returncode == 1, undeclared.stdout + undeclared.stderr


@pytest.mark.parametrize("args", [["numpy-reference", "--op", "softmax"], [f"{NAIVE}:softmax", "--op", "softmax"]])
def test_forward_only_is_refused_where_there_is_nothing_to_skip(args):
    result = run_cli("certify", *args, "--forward-only", "--no-speed")
    assert result.returncode == 2 and "--forward-only" in result.stderr and len(result.stderr.strip().splitlines()) == 1
