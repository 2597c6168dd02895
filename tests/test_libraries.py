"""The built-in adapters of real libraries (optional extras): ONNX Runtime, TensorFlow and MLX.

Each library's tests skip with the adapter's reason (which names the extra that installs it)
when the library is absent, as in CI, which installs ``.[all]`` only. When it is installed:

* the defects reported against it are reproduced in the library's own API (a test that skips,
  rather than fails, once a release fixes one, as in tests/test_found_bugs.py), and
* a certification with the property that targets each defect rejects it, while properties the
  library satisfies pass: one worker per library (``certify_many`` with ``jobs=1``, profile
  ``detect``: ci's examples, stopping at the first failure without shrinking, since only the
  verdict counts here), so TensorFlow's import of several seconds is paid once.
"""
from __future__ import annotations

import importlib
import importlib.util
import signal
import subprocess
import sys

import numpy as np
import pytest

from suite import oracle
from suite.adapter import builtin
from suite.certify import builtin_request, certify_many
from suite.cli import EXIT_USAGE, main
from suite.runner import FAIL, IMPL_DEFINED, PASS

LIBRARIES = {
    # adapter name: (the modules it needs, the extra that installs them)
    "onnxruntime": (("onnxruntime", "onnx"), "onnxruntime"),
    "tensorflow": (("tensorflow",), "tensorflow"),
    "mlx": (("mlx",), "mlx"),
}


def _require(name: str):
    adapter = builtin(name)
    reason = adapter.unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    return adapter


def _certify(name: str, plan: list[tuple[str, tuple[str, ...], tuple[str, ...]]]) -> dict[str, dict]:
    """Certify ``name`` for every (op, dtypes, properties) of ``plan`` in one worker; by op."""
    requests = []
    for op, dtypes, properties in plan:
        request = builtin_request(name, op, list(dtypes))
        request.properties = properties
        requests.append(request)
    certs = certify_many(requests, profile="detect", seed=0, jobs=1, speed=False)
    return {c["op"]: c for c in certs}


def _status(cert: dict, prop: str, dtype: str) -> tuple[str, str]:
    entry = next(p for p in cert["properties"] if p["name"] == prop)
    outcome = entry["dtypes"][dtype]
    return outcome["status"], outcome.get("message", "")


# --------------------------------------------------------------------------- without the libraries


@pytest.mark.parametrize("name", sorted(LIBRARIES))
def test_absent_library_is_unavailable_with_its_extra(name, monkeypatch):
    modules, extra = LIBRARIES[name]
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda module, *a: None if module in modules else real(module, *a))
    assert builtin(name).unavailable_reason() == f"not installed: pip install 'softmax-suite[{extra}]'"


def test_run_lists_an_absent_library_with_its_extra(monkeypatch, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda module, *a: None if module == "onnxruntime" else real(module, *a))
    assert main(["run", "--implementations", "onnxruntime", "--no-speed"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "onnxruntime: unavailable - not installed: pip install 'softmax-suite[onnxruntime]'" in err


# --------------------------------------------------------------------------- ONNX Runtime


def _ort_run(op_type: str, inputs: dict[str, np.ndarray], **attributes) -> np.ndarray:
    """A one-node ONNX model of ``op_type`` on ``inputs`` (float or int64 tensors), run on the CPU provider."""
    import onnxruntime
    from onnx import helper

    from implementations.onnxruntime_ops import OPSET

    infos = [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype), None) for k, v in inputs.items()]
    out_type = helper.np_dtype_to_tensor_dtype(next(iter(inputs.values())).dtype)
    node = helper.make_node(op_type, list(inputs), ["y"], **attributes)
    graph = helper.make_graph([node], "repro", infos, [helper.make_tensor_value_info("y", out_type, None)])
    opset = [helper.make_opsetid("", OPSET)]
    model = helper.make_model(graph, opset_imports=opset, ir_version=helper.find_min_ir_version_for(opset))
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(["y"], inputs)[0]


def test_onnxruntime_adapter_uses_the_newest_opset_it_supports():
    _require("onnxruntime")
    import onnx.defs

    from implementations.onnxruntime_ops import OPSET

    x = {"x": np.zeros((1, 3), dtype=np.float32)}
    np.testing.assert_allclose(_ort_run("Softmax", x, axis=-1), 1 / 3, rtol=1e-6)
    if onnx.defs.onnx_opset_version() > OPSET:
        # The next opset is refused ("under development", or an IR version past ONNX Runtime's):
        # a release that loads it should move implementations/onnxruntime_ops.py's OPSET on.
        import onnxruntime
        from onnx import helper

        node = helper.make_node("Softmax", ["x"], ["y"], axis=-1)
        info = helper.make_tensor_value_info("x", helper.np_dtype_to_tensor_dtype(np.dtype(np.float32)), None)
        graph = helper.make_graph([node], "next", [info], [helper.make_tensor_value_info("y", info.type.tensor_type.elem_type, None)])
        opset = [helper.make_opsetid("", OPSET + 1)]
        model = helper.make_model(graph, opset_imports=opset, ir_version=helper.find_min_ir_version_for(opset))
        with pytest.raises(Exception):
            onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def test_onnxruntime_adapter_matches_the_oracle_on_ordinary_logits():
    adapter = _require("onnxruntime")
    x = np.array([[1.0, 2.0, 3.0], [0.0, -np.inf, 1.0]])
    for dtype in adapter.dtypes:
        xd = x.astype(dtype)
        tol = 2e-3 if dtype == "float16" else 1e-6
        np.testing.assert_allclose(adapter.ops["softmax"](xd).astype(float), oracle.softmax(x).astype(float), rtol=tol, atol=tol)
        np.testing.assert_allclose(adapter.ops["logsumexp"](xd[0]).astype(float), oracle.logsumexp(x[0]).astype(float), rtol=tol)
        np.testing.assert_allclose(
            adapter.ops["cross_entropy"](xd, np.array([0, 2], dtype=np.int32)).astype(float),
            oracle.cross_entropy(x, np.array([0, 2])).astype(float), rtol=tol,
        )


def _reproduce(got, bad: bool, fixed: str, library: str = "onnxruntime"):
    if not bad:
        pytest.skip(f"this {library} release returns {got!r}: fixed; {fixed}")


@pytest.mark.parametrize(
    "dtype, row, raw",
    [
        # -800 in float64, -96 in float32: as if exp of the entry were taken unshifted (0, subnormal)
        ("float64", [-np.inf, -800.0], "-inf"),
        ("float32", [-np.inf, -96.0], "-96.0003"),
    ],
)
def test_onnxruntime_reducelogsumexp_with_a_masked_entry(dtype, row, raw):
    """ReduceLogSumExp of a 2-D input whose row starts with -inf: -inf (float64) and -96.0003
    (float32) where the exact value is the finite entry itself (the same row as a 1-D input, or
    with the -inf last, is right)."""
    _require("onnxruntime")
    x = np.array([row], dtype=dtype)
    exact = float(oracle.logsumexp(x, axis=-1)[0])
    assert exact == row[1]
    got = _ort_run("ReduceLogSumExp", {"x": x, "axes": np.array([-1], dtype=np.int64)}, keepdims=0)
    _reproduce(got, not np.isclose(float(got[0]), exact, rtol=1e-6, atol=0), "update this test and the README")
    assert f"{float(got[0]):.6g}" == raw
    one_d = _ort_run("ReduceLogSumExp", {"x": x[0], "axes": np.array([-1], dtype=np.int64)}, keepdims=0)
    assert float(one_d) == exact
    last = _ort_run("ReduceLogSumExp", {"x": x[:, ::-1].copy(), "axes": np.array([-1], dtype=np.int64)}, keepdims=0)
    assert float(last[0]) == exact


def test_onnxruntime_float64_logsoftmax_of_a_nan_row_is_positive():
    """LogSoftmax(float64) of [0, nan] is [46.05, nan]: a positive log-probability (log 1e20)."""
    _require("onnxruntime")
    got = _ort_run("LogSoftmax", {"x": np.array([0.0, np.nan])}, axis=-1)
    _reproduce(got, not np.isnan(got[0]), "update this test and the README")
    np.testing.assert_allclose(got[0], np.log(1e20))
    assert np.isnan(got[1])
    np.testing.assert_array_equal(_ort_run("LogSoftmax", {"x": np.array([0.0, np.nan], dtype=np.float32)}, axis=-1), [np.nan, np.nan])


def test_onnxruntime_float64_cross_entropy_can_be_negative():
    """SoftmaxCrossEntropyLoss(float64, reduction="none") of logits [0, nan] with target 0 is
    -46.05: a negative loss, where the row's NaN must give NaN."""
    _require("onnxruntime")
    got = _ort_run("SoftmaxCrossEntropyLoss", {"x": np.array([[0.0, np.nan]]), "t": np.array([0])}, reduction="none")
    _reproduce(got, not np.isnan(got[0]), "update this test and the README")
    assert got[0] < 0
    np.testing.assert_allclose(got[0], -np.log(1e20))


@pytest.fixture(scope="module")
def ort_certificates():
    _require("onnxruntime")
    return _certify(
        "onnxruntime",
        [
            ("logsumexp", ("float32", "float64"), ("output_contract", "masked_entries")),
            ("log_softmax", ("float32", "float64"), ("nan_propagation",)),
            ("cross_entropy", ("float64",), ("output_contract", "nan_propagation")),
        ],
    )


def test_suite_rejects_onnxruntime_logsumexp_on_masked_rows(ort_certificates):
    cert = ort_certificates["logsumexp"]
    assert not cert["certified"]
    assert _status(cert, "output_contract", "float32")[0] == PASS
    for dtype in ("float32", "float64"):
        status, message = _status(cert, "masked_entries", dtype)
        assert status == FAIL, message
        assert "logsumexp(x with -inf entries)" in message


def test_suite_rejects_onnxruntime_float64_log_softmax_nan_rows(ort_certificates):
    cert = ort_certificates["log_softmax"]
    assert not cert["certified"]
    assert _status(cert, "nan_propagation", "float32")[0] == PASS
    status, message = _status(cert, "nan_propagation", "float64")
    assert status == FAIL and "should be nan" in message, message


def test_suite_rejects_onnxruntime_float64_cross_entropy_nan_rows(ort_certificates):
    cert = ort_certificates["cross_entropy"]
    assert not cert["certified"]
    assert _status(cert, "output_contract", "float64")[0] == PASS
    status, message = _status(cert, "nan_propagation", "float64")
    assert status == FAIL and "should be nan" in message, message


# --------------------------------------------------------------------------- TensorFlow


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_tensorflow_softmax_does_not_propagate_nan(dtype):
    """tf.nn.softmax of [0, nan] is [0, nan] in float32 and bfloat16 (the row must be NaN);
    float16 and float64 give [nan, nan]."""
    _require("tensorflow")
    import tensorflow as tf

    got = tf.nn.softmax(tf.constant([0.0, np.nan], dtype=getattr(tf, dtype))).numpy().astype(np.float64)
    if np.isnan(got).all():
        pytest.skip(f"this tensorflow release returns {got!r}: fixed; update this test and the README")
    assert got[0] == 0 and np.isnan(got[1])
    assert np.isnan(tf.nn.softmax(tf.constant([0.0, np.nan], dtype=tf.float64)).numpy()).all()


@pytest.fixture(scope="module")
def tf_certificates():
    _require("tensorflow")
    return _certify(
        "tensorflow",
        [
            ("softmax", ("float32", "float64", "bfloat16"), ("output_contract", "nan_propagation")),
            ("gumbel_max", ("float32",), ("gumbel_max_contract", "gumbel_max_seeded")),
        ],
    )


def test_suite_rejects_tensorflow_softmax_nan_rows(tf_certificates):
    cert = tf_certificates["softmax"]
    assert not cert["certified"]
    assert _status(cert, "output_contract", "float32")[0] == PASS
    assert _status(cert, "nan_propagation", "float64")[0] == PASS
    for dtype in ("float32", "bfloat16"):
        status, message = _status(cert, "nan_propagation", dtype)
        assert status == FAIL and "should be nan" in message, message


def test_tensorflow_sampler_is_seeded(tf_certificates):
    cert = tf_certificates["gumbel_max"]
    assert cert["certified"], cert["reasons"]


# --------------------------------------------------------------------------- MLX


def _mlx_subprocess(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """``code`` (which imports MLX itself) in a fresh interpreter: a segfault kills that one only."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)


def test_mlx_adapter_matches_the_oracle_on_ordinary_logits():
    adapter = _require("mlx")
    x = np.array([[1.0, 2.0, 3.0], [0.0, -np.inf, 1.0]])
    for dtype in adapter.dtypes:
        xd = x.astype(dtype)
        tol = {"float16": 2e-3, "bfloat16": 1e-2}.get(dtype, 1e-6)
        for op in ("softmax", "log_softmax"):
            got = adapter.ops[op](xd)
            assert got.dtype == xd.dtype and got.shape == x.shape
            np.testing.assert_allclose(got.astype(float), oracle.evaluate(op, x).astype(float), rtol=tol, atol=tol)
        np.testing.assert_allclose(
            adapter.ops["temperature_softmax"](xd, 0.5).astype(float), oracle.softmax(x / 0.5).astype(float), rtol=tol, atol=tol
        )
        np.testing.assert_allclose(adapter.ops["logsumexp"](xd[0]).astype(float), oracle.logsumexp(x[0]).astype(float), rtol=tol)
        for targets in (np.array([0, 2], dtype=np.int32), np.array([0, 2], dtype=np.int64)):
            np.testing.assert_allclose(
                adapter.ops["cross_entropy"](xd, targets).astype(float),
                oracle.cross_entropy(x, np.array([0, 2])).astype(float), rtol=tol,
            )
        samples = adapter.ops["gumbel_max"](xd[1], 64, 0)
        assert samples.shape == (64,) and samples.dtype.kind == "u" and set(samples.tolist()) <= {0, 2}


LOG_SOFTMAX_OF = "import numpy as np, mlx.core as mx, mlx.nn as nn; print(np.array(nn.log_softmax(mx.array({x}), axis={axis})).tolist())"


@pytest.mark.parametrize(
    "x, axis",
    [
        ("[[0.0]]", -1),  # the minimal input the certification shrinks to, in 2-D
        ("[[0.0], [1.0]]", -1),
        ("[[[0.0]]]", -1),
        ("[[0.0, 1.0]]", 0),  # any reduced axis of length 1, not only the last
    ],
)
def test_mlx_log_softmax_segfaults_on_a_length_one_axis(x, axis):
    """mlx.nn.log_softmax (a shapeless mx.compile) kills the process (SIGSEGV) on an input of
    two or more dimensions whose reduced axis has length 1 (exact: 0 for every entry)."""
    _require("mlx")
    run = _mlx_subprocess(LOG_SOFTMAX_OF.format(x=x, axis=axis))
    _reproduce(run.stdout.strip(), run.returncode != 0, "update this test, suite/bugs_found.py and the README", "mlx")
    # SIGSEGV here; in the suite's workers the same calls also died with SIGABRT and SIGBUS.
    assert run.returncode in (-signal.SIGSEGV, -signal.SIGABRT, -signal.SIGBUS), (run.returncode, run.stderr[-500:])


def test_mlx_log_softmax_length_one_axis_is_right_in_1d_and_uncompiled():
    """The same values in 1-D, or with compilation disabled (mx.disable_compile), are right: the
    crash is in the compiled graph, and mx.softmax and mx.logsumexp of [[0.]] are right too."""
    _require("mlx")
    code = (
        "import numpy as np, mlx.core as mx, mlx.nn as nn\n"
        "print(np.array(nn.log_softmax(mx.array([0.0]))).tolist(), np.array(mx.softmax(mx.array([[0.0]]), axis=-1)).tolist(),"
        " np.array(mx.logsumexp(mx.array([[0.0]]), axis=-1)).tolist())\n"
        "mx.disable_compile()\n"
        "print(np.array(nn.log_softmax(mx.array([[0.0]]), axis=-1)).tolist())"
    )
    run = _mlx_subprocess(code)
    assert run.returncode == 0, run.stderr[-500:]
    assert run.stdout.split("\n")[:2] == ["[0.0] [[1.0]] [0.0]", "[[0.0]]"]


def test_mlx_log_softmax_of_an_empty_axis_after_another_shape_has_the_wrong_shape():
    """mlx.nn.log_softmax of a (2, 0) input after a call on (2, 3) returns a (2, 1) array of NaN
    (the shapeless compile replays the other shape's graph); as the first call it raises
    ValueError ([max] Cannot max reduce over axis 1 with size 0)."""
    _require("mlx")
    code = (
        "import json, numpy as np, mlx.core as mx, mlx.nn as nn\n"
        "mx.eval(nn.log_softmax(mx.zeros((2, 3))))\n"
        "print(json.dumps(np.array(nn.log_softmax(mx.zeros((2, 0)))).tolist()))"
    )
    run = _mlx_subprocess(code, timeout=60)
    _reproduce(run.stdout.strip(), run.returncode == 0, "update this test, suite/bugs_found.py and the README", "mlx")
    assert run.stdout.strip() == "[[NaN], [NaN]]"
    first = _mlx_subprocess(code.replace("mx.eval(nn.log_softmax(mx.zeros((2, 3))))", "pass"), timeout=60)
    assert first.returncode == 1 and "Cannot max reduce over axis 1 with size 0" in first.stderr


def test_mlx_float64_exp_is_computed_in_float32():
    """MLX's CPU float64 exp is its float32 approximation (ml-explore/mlx#3047): exp(1.0) is
    float32's e, exp(100.0) overflows to inf, and float64 logsumexp([0, -0.653191]) is off by
    a relative 9e-8 (4e8 float64 ULP); log is right, so logsumexp's error is the exp's."""
    _require("mlx")
    import mlx.core as mx

    mx.set_default_device(mx.cpu)
    x = np.array([0.0, -0.653191])
    got = np.array(mx.logsumexp(mx.array(x, dtype=mx.float64)))
    exact = float(oracle.logsumexp(x))
    _reproduce(got, not np.isclose(float(got), exact, rtol=1e-12, atol=0), "update this test, suite/bugs_found.py and the README", "mlx")
    assert got.dtype == np.float64 and 5e-8 < (float(got) - exact) / exact < 2e-7
    exps = np.array(mx.exp(mx.array(np.array([1.0, 100.0]), dtype=mx.float64)))
    assert exps[0] == float(np.float32(np.e)) and np.isinf(exps[1])
    assert np.array(mx.log(mx.array(np.array([2.0]), dtype=mx.float64)))[0] == np.log(2.0)


@pytest.fixture(scope="module")
def mlx_certificates():
    _require("mlx")
    return _certify(
        "mlx",
        [
            ("log_softmax", ("float32",), ("output_contract", "fully_masked_row")),
            ("softmax", ("float32", "float64"), ("output_contract", "batch_independence", "definition")),
        ],
    )


def test_suite_rejects_mlx_log_softmax_crash_with_a_minimal_input(mlx_certificates):
    cert = mlx_certificates["log_softmax"]
    assert not cert["certified"]
    status, message = _status(cert, "output_contract", "float32")
    assert status == FAIL and "crashed with signal SIGSEGV" in message, message
    assert "shrunk to this minimal crashing input" in message, message
    entry = next(p for p in cert["properties"] if p["name"] == "output_contract")["dtypes"]["float32"]
    x = eval(entry["counterexample"]["x"], {"np": np})  # noqa: S307 - the certificate's own repro text
    assert x.ndim >= 2 and x.size == 1, x  # every axis cut to length 1
    # A probe whose fixed input does not crash it (a (2, 3) input) reports its own observation.
    cert_entry = next(p for p in cert["properties"] if p["name"] == "fully_masked_row")["dtypes"]["float32"]
    assert cert_entry["status"] == IMPL_DEFINED and cert_entry["observation"] == "NaN", cert_entry


def test_suite_rejects_mlx_float64_softmax_and_passes_what_it_satisfies(mlx_certificates):
    cert = mlx_certificates["softmax"]
    assert not cert["certified"]
    for prop in ("output_contract", "batch_independence", "definition"):
        assert _status(cert, prop, "float32")[0] == PASS, _status(cert, prop, "float32")
    assert _status(cert, "output_contract", "float64")[0] == PASS
    status, message = _status(cert, "definition", "float64")
    assert status == FAIL and "but should be" in message, message
