"""The built-in adapters of real libraries (optional extras): ONNX Runtime, TensorFlow, PaddlePaddle,
OpenVINO, tinygrad and MLX.
OpenVINO, tinygrad and MLX.

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
import json
import os
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
from suite.ops import OPS

LIBRARIES = {
    # adapter name: (the modules it needs, the extra that installs them)
    "onnxruntime": (("onnxruntime", "onnx"), "onnxruntime"),
    "tensorflow": (("tensorflow",), "tensorflow"),
    "paddle": (("paddle",), "paddle"),
    "openvino": (("openvino", "onnx"), "openvino"),
    "tinygrad": (("tinygrad",), "tinygrad"),
    "mlx": (("mlx",), "mlx"),
    # Liger-Kernel's Triton kernels: its findings are pinned in tests/test_liger.py (the interpreter
    # needs TRITON_INTERPRET before Triton is imported, so they run in a process of their own)
    "liger-kernel": (("liger_kernel", "triton", "torch"), "liger"),
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


def _assert_rejects(cert: dict, *, fails: tuple[str, str, str], passes: tuple[str, str]) -> None:
    """``cert`` is not certified: property ``fails[0]`` fails on dtype ``fails[1]`` with a message
    containing ``fails[2]``, while ``passes`` (property, dtype) passes beside it."""
    assert not cert["certified"]
    assert _status(cert, *passes)[0] == PASS, _status(cert, *passes)
    status, message = _status(cert, fails[0], fails[1])
    assert status == FAIL and fails[2] in message, message


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
    _assert_rejects(ort_certificates["log_softmax"], fails=("nan_propagation", "float64", "should be nan"), passes=("nan_propagation", "float32"))


def test_suite_rejects_onnxruntime_float64_cross_entropy_nan_rows(ort_certificates):
    _assert_rejects(ort_certificates["cross_entropy"], fails=("nan_propagation", "float64", "should be nan"), passes=("output_contract", "float64"))


# --------------------------------------------------------------------------- PaddlePaddle


def _paddle():
    """paddle and paddle.nn.functional on the CPU. This section comes before TensorFlow's: ``import
    paddle`` segfaults in a process that has already imported tensorflow (their bundled protobufs
    clash in libpaddle's import; paddle first, then tensorflow, works), so the test skips, naming
    the cause, where another order imported tensorflow first."""
    _require("paddle")

    if "tensorflow" in sys.modules and "paddle" not in sys.modules:
        pytest.skip("import paddle segfaults after import tensorflow in one process: run these tests apart (-k paddle)")
    import paddle
    import paddle.nn.functional as F

    paddle.set_device("cpu")
    return paddle, F


def test_paddle_adapter_matches_the_oracle_on_ordinary_logits():
    adapter = _require("paddle")
    _paddle()
    x = np.array([[1.0, 2.0, 3.0], [0.0, -2.5, 1.0]])
    for dtype in adapter.dtypes:
        xd = x.astype(dtype)
        tol = 1e-6
        np.testing.assert_allclose(adapter.ops["softmax"](xd), oracle.softmax(x).astype(float), rtol=tol, atol=tol)
        np.testing.assert_allclose(adapter.ops["log_softmax"](xd), oracle.log_softmax(x).astype(float), rtol=tol)
        np.testing.assert_allclose(adapter.ops["logsumexp"](xd[0]), oracle.logsumexp(x[0]).astype(float), rtol=tol)
        np.testing.assert_allclose(
            adapter.ops["temperature_softmax"](xd, 0.5), oracle.softmax(x / 0.5).astype(float), rtol=tol, atol=tol
        )
        for targets in (np.array([0, 2], dtype=np.int32), np.array([0, 2], dtype=np.int64)):
            got = adapter.ops["cross_entropy"](xd, targets)
            assert got.shape == (2,) and got.dtype == np.dtype(dtype)
            np.testing.assert_allclose(got, oracle.cross_entropy(x, np.array([0, 2])).astype(float), rtol=tol)


def test_paddle_cpu_build_has_no_16_bit_kernels():
    """float16 (and bfloat16) are not in the adapter's dtypes because the CPU build refuses them."""
    paddle, F = _paddle()
    from implementations.paddle_ops import DTYPES

    assert DTYPES == ("float32", "float64")
    x = paddle.to_tensor(np.zeros((1, 3), dtype=np.float16))
    try:
        F.softmax(x)
    except RuntimeError as exc:
        assert "not registered" in str(exc) and "float16" in str(exc)
    else:
        pytest.skip("this paddle release has a float16 softmax kernel on the CPU: add float16 to implementations/paddle_ops.py")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_paddle_softmax_clips_the_shifted_logits_at_minus_64(dtype):
    """F.softmax clamps x - max at -64 on the CPU: a masked (-inf) entry gets exp(-64) = 1.6e-28
    instead of 0, F.log_softmax gives it -64 instead of -inf, and F.cross_entropy is capped at 64
    (logits [0, -100], target 1: 64 where the exact loss is 100)."""
    paddle, F = _paddle()
    masked = paddle.to_tensor(np.array([[0.0, -np.inf]], dtype=dtype))
    got = F.softmax(masked).numpy()
    exact = oracle.softmax(np.array([[0.0, -np.inf]]))
    assert exact[0, 1] == 0
    _reproduce(got, got[0, 1] != 0, "update this test, suite/bugs_found.py and the README", "paddle")
    assert got[0, 0] == 1
    np.testing.assert_allclose(got[0, 1], np.exp(-64.0), rtol=1e-6)
    np.testing.assert_array_equal(F.log_softmax(masked).numpy(), [[0.0, -64.0]])
    gap = np.array([[0.0, -100.0]], dtype=dtype)
    loss = F.cross_entropy(paddle.to_tensor(gap), paddle.to_tensor(np.array([1])), reduction="none").numpy()
    assert float(oracle.cross_entropy(gap, np.array([1]))[0]) == 100.0
    np.testing.assert_array_equal(loss, [64.0])
    assert float(paddle.logsumexp(masked, axis=-1).numpy()[0]) == 0.0  # logsumexp has no clamp


def test_paddle_float32_softmax_drops_nan_in_rows_of_8_or_more():
    """float32 F.softmax of [0]*7 + [nan] (8 entries, one AVX block) gives the finite entries 1/7
    and the NaN entry exp(-64)/7: a NaN logit must make the whole row NaN. F.cross_entropy of it
    (target 0) is log 7. A row of 7 entries, and float64, propagate the NaN."""
    paddle, F = _paddle()
    row = np.array([[0.0] * 7 + [np.nan]], dtype=np.float32)
    got = F.softmax(paddle.to_tensor(row)).numpy()
    _reproduce(got, not np.isnan(got).all(), "update this test, suite/bugs_found.py and the README", "paddle")
    np.testing.assert_allclose(got[0, :7], 1 / 7, rtol=1e-6)
    np.testing.assert_allclose(got[0, 7], np.exp(-64.0) / 7, rtol=1e-5)
    loss = F.cross_entropy(paddle.to_tensor(row), paddle.to_tensor(np.array([0])), reduction="none").numpy()
    np.testing.assert_allclose(loss, [np.log(7)], rtol=1e-6)
    assert np.isnan(F.softmax(paddle.to_tensor(row[:, 1:])).numpy()).all()  # 7 entries
    assert np.isnan(F.softmax(paddle.to_tensor(row.astype(np.float64))).numpy()).all()
    assert np.isnan(F.log_softmax(paddle.to_tensor(row)).numpy()).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_paddle_logsumexp_of_infinities_is_nan(dtype):
    """paddle.logsumexp is NaN wherever the row's maximum is infinite: [-inf, -inf] (exact -inf),
    [0, inf] (exact inf), even the one-entry rows [-inf] and [inf]."""
    paddle, _ = _paddle()
    rows = {(-np.inf, -np.inf): -np.inf, (0.0, np.inf): np.inf, (-np.inf,): -np.inf, (np.inf,): np.inf}
    for row, exact in rows.items():
        assert float(oracle.logsumexp(np.array([row]))[0]) == exact
        got = paddle.logsumexp(paddle.to_tensor(np.array([row], dtype=dtype)), axis=-1).numpy()
        _reproduce(got, np.isnan(got[0]), "update this test, suite/bugs_found.py and the README", "paddle")


def test_paddle_log_softmax_takes_time_quadratic_in_the_classes():
    """F.log_softmax on the CPU takes time quadratic in the length of its axis (one row of 32768
    float32 logits: seconds; F.softmax and paddle.logsumexp of it: well under a millisecond):
    four times the classes take about sixteen times as long. The suite's axis_honoured timed out
    (180 s) on a (N, 1) float64 column along axis -2."""
    import time

    paddle, F = _paddle()

    def seconds(k: int) -> float:
        x = paddle.to_tensor(np.zeros((1, k), dtype=np.float32))
        start = time.perf_counter()
        F.log_softmax(x)
        return time.perf_counter() - start

    seconds(256)  # warm up
    small, large = seconds(4096), seconds(16384)
    _reproduce((small, large), large > 0.2 and large / small > 8, "update this test and the README", "paddle")


@pytest.fixture(scope="module")
def paddle_certificates():
    _require("paddle")
    return _certify(
        "paddle",
        [
            ("softmax", ("float32", "float64"), ("output_contract", "sums_to_one", "masked_entries", "nan_propagation")),
            ("log_softmax", ("float64",), ("monotonicity", "masked_entries")),
            ("cross_entropy", ("float32",), ("output_contract", "nan_propagation")),
            ("logsumexp", ("float32", "float64"), ("output_contract", "lse_all_masked", "lse_posinf")),
        ],
    )


def test_suite_rejects_paddle_masked_entries(paddle_certificates):
    softmax, log_softmax = paddle_certificates["softmax"], paddle_certificates["log_softmax"]
    assert not softmax["certified"] and not log_softmax["certified"]
    for dtype in ("float32", "float64"):
        assert _status(softmax, "output_contract", dtype)[0] == PASS
        assert _status(softmax, "sums_to_one", dtype)[0] == PASS
        status, message = _status(softmax, "masked_entries", dtype)
        assert status == FAIL and "a -inf entry should give exactly 0.0" in message, message
    assert _status(log_softmax, "monotonicity", "float64")[0] == PASS
    status, message = _status(log_softmax, "masked_entries", "float64")
    assert status == FAIL and "=-64.0: a -inf entry should give exactly -inf" in message, message


def test_suite_rejects_paddle_float32_softmax_nan_rows(paddle_certificates):
    cert = paddle_certificates["softmax"]
    status, message = _status(cert, "nan_propagation", "float32")
    assert status == FAIL and "should be nan" in message, message
    # float64 propagates the NaN; its nan_propagation fails on the clamp, in an unpoisoned masked row
    status, message = _status(cert, "nan_propagation", "float64")
    assert status == FAIL and "should be nan" not in message and "e-28" in message, message


def test_suite_rejects_paddle_float32_cross_entropy_nan_rows(paddle_certificates):
    _assert_rejects(paddle_certificates["cross_entropy"], fails=("nan_propagation", "float32", "should be nan"), passes=("output_contract", "float32"))


def test_suite_rejects_paddle_logsumexp_of_infinities(paddle_certificates):
    cert = paddle_certificates["logsumexp"]
    assert not cert["certified"]
    for dtype in ("float32", "float64"):
        assert _status(cert, "output_contract", dtype)[0] == PASS
        for prop, exact in (("lse_all_masked", "-inf"), ("lse_posinf", "inf")):
            status, message = _status(cert, prop, dtype)
            assert status == FAIL and f"=nan, but should be {exact}" in message, message


# --------------------------------------------------------------------------- TensorFlow


# TensorFlow runs tf.nn.softmax on oneDNN's CPU kernels where its oneDNN optimisations are on: by
# default on CPUs with AVX-512 VNNI, AVX-512 BF16 or AMX (the Intel machine the defect was found on),
# and wherever TF_ENABLE_ONEDNN_OPTS=1; elsewhere (this AVX2-only AMD EPYC, by default) it runs
# Eigen's kernel, which propagates NaN. The defect is oneDNN's, so these tests turn it on.
ONEDNN = {"TF_ENABLE_ONEDNN_OPTS": "1"}


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_tensorflow_softmax_does_not_propagate_nan(dtype):
    """tf.nn.softmax of [0, nan] on oneDNN's kernel is [0, nan] in float32 and bfloat16 (the row
    must be NaN); float16 and float64 give [nan, nan]. In a fresh interpreter: TensorFlow reads
    TF_ENABLE_ONEDNN_OPTS when it is imported."""
    _require("tensorflow")
    code = (
        "import json, numpy as np, tensorflow as tf\n"
        f"print(json.dumps(tf.nn.softmax(tf.constant([0.0, np.nan], dtype=tf.{dtype})).numpy().astype(np.float64).tolist()))\n"
        "print(json.dumps(tf.nn.softmax(tf.constant([0.0, np.nan], dtype=tf.float64)).numpy().tolist()))"
    )
    run = subprocess.run([sys.executable, "-c", code], env={**os.environ, **ONEDNN}, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    got, wide = (np.array(json.loads(line), dtype=np.float64) for line in run.stdout.strip().splitlines()[-2:])
    if np.isnan(got).all():
        pytest.skip(f"this tensorflow release returns {got!r} on oneDNN's kernel: fixed; update this test and the README")
    assert got[0] == 0 and np.isnan(got[1])
    assert np.isnan(wide).all()


@pytest.fixture(scope="module")
def tf_certificates():
    _require("tensorflow")
    with pytest.MonkeyPatch.context() as mp:  # the workers start with oneDNN's kernels on
        for name, value in ONEDNN.items():
            mp.setenv(name, value)
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
    status, message = _status(cert, "nan_propagation", "float32")
    assert status == FAIL and "should be nan" in message, message
    # bfloat16: the NaN is dropped too, and oneDNN's ordinary rows beside it are off by 2 ULP, which
    # the property may report first
    assert _status(cert, "nan_propagation", "bfloat16")[0] == FAIL


def test_tensorflow_sampler_is_seeded(tf_certificates):
    cert = tf_certificates["gumbel_max"]
    assert cert["certified"], cert["reasons"]


# --------------------------------------------------------------------------- OpenVINO


def _ov_run(build, x: np.ndarray) -> np.ndarray:
    """``build(parameter)`` (openvino.opset16 ops) on a parameter of x's dtype and shape, compiled
    for the CPU device with its defaults and run on ``x`` (float32 or float64 here)."""
    import openvino as ov
    import openvino.opset16 as ops

    p = ops.parameter(list(x.shape), ov.Type(x.dtype), name="x")
    return ov.Core().compile_model(ov.Model([build(p)], [p]), "CPU")(x)[0]


def _ov_onnx_lse(x: np.ndarray) -> np.ndarray:
    """ONNX ReduceLogSumExp(x, axes=[-1], keepdims=0) read by OpenVINO's ONNX frontend, on the CPU device."""
    import openvino as ov
    from onnx import TensorProto, helper

    from implementations.openvino_ops import OPSET

    elem = helper.np_dtype_to_tensor_dtype(x.dtype)
    node = helper.make_node("ReduceLogSumExp", ["x", "axes"], ["y"], keepdims=0)
    graph = helper.make_graph([node], "repro", [helper.make_tensor_value_info("x", elem, list(x.shape))],
                              [helper.make_tensor_value_info("y", elem, None)],
                              [helper.make_tensor("axes", TensorProto.INT64, [1], [-1])])
    opset = [helper.make_opsetid("", OPSET)]
    model = helper.make_model(graph, opset_imports=opset, ir_version=helper.find_min_ir_version_for(opset))
    core = ov.Core()
    return core.compile_model(core.read_model(model.SerializeToString()), "CPU")(x)[0]


def test_openvino_adapter_matches_the_oracle_on_ordinary_logits():
    adapter = _require("openvino")
    import ml_dtypes

    # finite logits: float64 runs in float32, where log_softmax's -inf comes back as -FLT_MAX (below)
    x = np.array([[1.0, 2.0, 3.0], [0.0, -4.0, 1.0]])
    for dtype in adapter.dtypes:
        xd = x.astype(ml_dtypes.bfloat16 if dtype == "bfloat16" else dtype)
        tol = {"float16": 2e-3, "bfloat16": 1e-2}.get(dtype, 1e-6)
        for op in ("softmax", "log_softmax", "logsumexp"):
            got = adapter.ops[op](xd)
            assert got.dtype == xd.dtype, (op, dtype)
            np.testing.assert_allclose(got.astype(float), getattr(oracle, op)(x).astype(float), rtol=tol, atol=tol)
        np.testing.assert_allclose(
            adapter.ops["cross_entropy"](xd, np.array([0, 2], dtype=np.int32)).astype(float),
            oracle.cross_entropy(x, np.array([0, 2])).astype(float), rtol=tol,
        )
        np.testing.assert_allclose(adapter.ops["temperature_softmax"](xd, 2.0).astype(float), oracle.softmax(x / 2).astype(float), rtol=tol, atol=tol)
        draws = adapter.ops["gumbel_max"](np.array([0.0, -np.inf, 1.0]).astype(xd.dtype), 64, 7)
        assert draws.shape == (64,) and draws.dtype.kind == "i" and not np.any(draws == 1)  # category 1 is masked


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_openvino_softmax_and_logsoftmax_do_not_propagate_nan(dtype):
    """ops.softmax of [0, nan] is [0, nan] (the NaN stays where it is, the others get 0); ops.log_softmax
    of [nan, 0] is [nan, -inf] in float32 ([nan, -FLT_MAX] in float64, which runs in float32). Where the
    NaN is last, log_softmax gives [nan, nan]."""
    _require("openvino")
    import openvino.opset16 as ops

    x = np.array([0.0, np.nan], dtype=dtype)
    got = _ov_run(lambda p: ops.softmax(p, -1), x)
    _reproduce(got, not np.isnan(got).all(), "update this test and the README", "openvino")
    assert got[0] == 0 and np.isnan(got[1])
    log = _ov_run(lambda p: ops.log_softmax(p, -1), x[::-1].copy())
    assert np.isnan(log[0]) and log[1] == (-np.inf if dtype == "float32" else -np.finfo(np.float32).max)
    assert np.isnan(_ov_run(lambda p: ops.log_softmax(p, -1), x)).all()


def test_openvino_onnx_reducelogsumexp_of_a_nan_row_is_inf():
    """ONNX ReduceLogSumExp through OpenVINO's ONNX frontend: [[nan, 0]] (float32) gives +inf where the
    row's NaN must give NaN (the NaN anywhere but last: the issue's own [0.5, 1.5, 2.5, nan, 3.5, 4.5] is
    +inf too, openvinotoolkit/openvino#35929); [[0, nan]] gives NaN."""
    _require("openvino")
    got = _ov_onnx_lse(np.array([[np.nan, 0.0]], dtype=np.float32))
    _reproduce(got, not np.isnan(got[0]), "update this test, suite/bugs_found.py and the README", "openvino")
    assert got[0] == np.inf
    assert _ov_onnx_lse(np.array([0.5, 1.5, 2.5, np.nan, 3.5, 4.5], dtype=np.float32)) == np.inf
    assert np.isnan(_ov_onnx_lse(np.array([[0.0, np.nan]], dtype=np.float32))[0])


def test_openvino_onnx_softmax_cross_entropy_of_a_nan_row_is_inf():
    """ONNX SoftmaxCrossEntropyLoss(reduction="none") through the ONNX frontend: logits [[nan, 0]] with
    target 1 give the loss +inf where the row's NaN must give NaN (target 0, the NaN's own, gives NaN)."""
    _require("openvino")
    adapter = builtin("openvino")
    x = np.array([[np.nan, 0.0]], dtype=np.float32)
    got = adapter.ops["cross_entropy"](x, np.array([1], dtype=np.int64))
    _reproduce(got, not np.isnan(got[0]), "update this test, suite/bugs_found.py and the README", "openvino")
    assert got[0] == np.inf
    assert np.isnan(adapter.ops["cross_entropy"](x, np.array([0], dtype=np.int64))[0])


def test_openvino_float64_runs_in_float32():
    """The CPU device has no float64 kernels: a float64 model runs in float32 and -inf comes back as
    -FLT_MAX, so a fully masked row is uniform instead of NaN (openvinotoolkit/openvino#37968); the
    behaviour rows of the certificate, not a verdict-deciding defect of their own."""
    _require("openvino")
    import openvino.opset16 as ops

    got = _ov_run(lambda p: ops.softmax(p, -1), np.array([[-np.inf, -np.inf], [0.0, 1e-10]]))
    if np.isnan(got[0]).all():
        pytest.skip(f"this openvino release returns {got!r} for a fully masked float64 row: update this test and the README")
    np.testing.assert_array_equal(got, [[0.5, 0.5], [0.5, 0.5]])  # 1e-10 is lost in float32
    assert np.isnan(_ov_run(lambda p: ops.softmax(p, -1), np.array([[-np.inf, -np.inf]], dtype=np.float32))).all()


def test_openvino_bfloat16_multinomial_where_it_runs_in_bfloat16():
    """The CPU Multinomial sums its CDF in the logits' precision: where it runs bfloat16 (a CPU with
    AVX-512 BF16 or AMX) category 2 of the battery's 'peaked' logits (p = 0.0065) is reported never to
    be drawn. Elsewhere the CPU device runs bfloat16 Multinomial in float32 and draws it at its rate."""
    _require("openvino")
    import ml_dtypes

    from implementations.openvino_ops import _sampler

    x = np.array([6.0, 1.5, 1.0, 0.5, 0.0, 0.0, -0.5, -1.0, -2.0, -3.0])
    compiled = _sampler(np.dtype(ml_dtypes.bfloat16), 1)
    precision = next(
        op.get_rt_info()["runtimePrecision"].astype(str)
        for op in compiled.get_runtime_model().get_ordered_ops()
        if op.get_rt_info()["layerType"].astype(str) == "Multinomial"
    )
    rate = float(np.mean(compiled([x.astype(ml_dtypes.bfloat16)[None], np.array(200_000, dtype=np.int64)])[0][0] == 2))
    exact = float(oracle.softmax(x)[2])
    if precision != "bf16":
        assert abs(rate - exact) < 5 * np.sqrt(exact / 200_000), (rate, exact)
        pytest.skip(f"not reproducible here: this CPU runs bfloat16 Multinomial in {precision} (category 2 drawn at {rate:.4g}, exact {exact:.4g})")
    _reproduce(rate, rate == 0, "update this test and the README", "openvino")


@pytest.fixture(scope="module")
def ov_certificates():
    _require("openvino")
    return _certify(
        "openvino",
        [
            ("softmax", ("float32", "float64"), ("output_contract", "nan_propagation", "fully_masked_row")),
            ("log_softmax", ("float32",), ("nan_propagation",)),
            ("logsumexp", ("float32",), ("output_contract", "nan_propagation")),
            ("cross_entropy", ("float32",), ("output_contract", "nan_propagation")),
            ("gumbel_max", ("float32",), ("gumbel_max_contract", "gumbel_max_seeded")),
        ],
    )


def test_suite_rejects_openvino_softmax_nan_rows(ov_certificates):
    for op in ("softmax", "log_softmax"):
        cert = ov_certificates[op]
        assert not cert["certified"]
        status, message = _status(cert, "nan_propagation", "float32")
        assert status == FAIL and "should be nan" in message, message
    assert _status(ov_certificates["softmax"], "output_contract", "float32")[0] == PASS


def test_suite_rejects_openvino_logsumexp_nan_rows(ov_certificates):
    _assert_rejects(ov_certificates["logsumexp"], fails=("nan_propagation", "float32", "should be nan"), passes=("output_contract", "float32"))


def test_suite_rejects_openvino_cross_entropy_nan_rows(ov_certificates):
    _assert_rejects(ov_certificates["cross_entropy"], fails=("nan_propagation", "float32", "should be nan"), passes=("output_contract", "float32"))


def test_suite_records_openvino_float64_fully_masked_row_as_uniform(ov_certificates):
    entry = next(p for p in ov_certificates["softmax"]["properties"] if p["name"] == "fully_masked_row")
    assert entry["dtypes"]["float32"]["observation"] == "NaN"
    assert entry["dtypes"]["float64"]["observation"].startswith("uniform")


def test_openvino_sampler_is_seeded(ov_certificates):
    cert = ov_certificates["gumbel_max"]
    assert cert["certified"], cert["reasons"]


# --------------------------------------------------------------------------- tinygrad


def test_tinygrad_without_a_c_compiler_is_unavailable_with_the_reason(monkeypatch):
    """The CPU device compiles every kernel with clang (or $CC): without one it cannot start."""
    import shutil

    if importlib.util.find_spec("tinygrad") is None:
        pytest.skip("not installed: pip install 'softmax-suite[tinygrad]'")
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    assert builtin("tinygrad").unavailable_reason() == "tinygrad's CPU device needs a C compiler (clang): not found on PATH"


def _tg(x: np.ndarray):
    from tinygrad import Tensor

    return Tensor(x, device="CPU")


def test_tinygrad_adapter_matches_the_oracle_on_ordinary_logits():
    adapter = _require("tinygrad")
    x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 1.0]])
    for dtype in adapter.dtypes:
        xd = x.astype(dtype)
        tol = {"float16": 2e-3, "bfloat16": 1.6e-2}.get(dtype, 1e-6)
        for op in ("softmax", "log_softmax", "logsumexp"):
            got = adapter.ops[op](xd)
            assert got.dtype == xd.dtype, (op, dtype, got.dtype)
            np.testing.assert_allclose(got.astype(float), getattr(oracle, op)(x).astype(float), rtol=tol, atol=tol)
        np.testing.assert_allclose(
            adapter.ops["cross_entropy"](xd, np.array([0, 2], dtype=np.int32)).astype(float),
            oracle.cross_entropy(x, np.array([0, 2])).astype(float), rtol=tol,
        )


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_tinygrad_softmax_of_a_nan_on_a_length_one_axis_is_one(dtype):
    """Tensor.softmax of [nan] is [1.], Tensor.log_softmax of it [0.] and the cross-entropy of
    [[nan]] -0. (all must be NaN): over an axis of length 1, x - max(x) is taken as 0. Over a longer
    axis, [0, nan] gives [nan, nan]."""
    _require("tinygrad")
    x = np.array([np.nan], dtype=dtype)
    got = _tg(x).softmax(-1).numpy()
    _reproduce(got, not np.isnan(got).all(), "update this test and the README", "tinygrad")
    assert got.tolist() == [1.0]
    assert _tg(x).log_softmax(-1).numpy().tolist() == [0.0]
    loss = _tg(x[None, :]).sparse_categorical_crossentropy(_tg(np.array([0])), reduction="none").numpy()
    assert loss.tolist() == [0.0]
    assert np.isnan(_tg(np.array([0.0, np.nan], dtype=dtype)).softmax(-1).numpy()).all()


@pytest.mark.parametrize("row, exact", [([-np.inf, -np.inf], -np.inf), ([0.0, np.inf], np.inf)])
def test_tinygrad_logsumexp_of_an_infinite_max_is_nan(row, exact):
    """Tensor.logsumexp of [-inf, -inf] and of [0, inf] is NaN (exact -inf and inf): the shift by the
    max is unconditional, so the row does -inf - -inf (inf - inf). tinygrad/tinygrad#17822 (merged
    after 0.14.0) shifts by 0 when the max is not finite."""
    _require("tinygrad")
    x = np.array(row, dtype=np.float32)
    assert float(oracle.logsumexp(x)) == exact
    got = _tg(x).logsumexp(-1).numpy()
    _reproduce(got, np.isnan(got), "update this test and the README", "tinygrad")
    assert float(_tg(x[1:]).logsumexp(-1).numpy()) == exact  # one entry: right


def test_tinygrad_softmax_of_a_quotient_near_the_float32_maximum_is_nan():
    """(Tensor(x) / 1.5).softmax() of x = [3e38, 3e38] (float32) is [nan, nan]: x / 1.5 = 2e38 is
    finite and the answer uniform. Dividing by 2, or realizing x / 1.5 first, gives [0.5, 0.5]:
    the division is fused into the softmax's kernels (as XLA does for jax, in Bugs found)."""
    _require("tinygrad")
    from tinygrad import Tensor

    x = np.array([3e38, 3e38], dtype=np.float32)
    got = (_tg(x) / 1.5).softmax(-1).numpy()
    _reproduce(got, np.isnan(got).any(), "update this test and the README", "tinygrad")
    assert np.isnan(got).all()
    quotient = (_tg(x) / 1.5).numpy()
    assert np.isfinite(quotient).all()
    np.testing.assert_array_equal(Tensor(quotient, device="CPU").softmax(-1).numpy(), [0.5, 0.5])
    np.testing.assert_array_equal((_tg(x) / 2.0).softmax(-1).numpy(), [0.5, 0.5])


def test_tinygrad_float16_sum_of_exponentials_overflows():
    """float16 Tensor.logsumexp of 65536 zeros is inf (exact log 65536 = 11.09) and softmax of them 0
    (exact 2**-16, a normal float16): the sum of the exponentials, 65536, is rounded to float16, whose
    largest finite value is 65504. 8192 zeros are right. The suite finds it in the graded ulp_accuracy
    (log_softmax, float16, a flat row of 151936 classes: -inf throughout), a property too slow here
    (100 s) to certify in this file; finite_outputs draws no such row."""
    _require("tinygrad")
    x = np.zeros((1, 65536), dtype=np.float16)
    got = _tg(x).logsumexp(-1).numpy()
    _reproduce(got, not np.isfinite(got[0]), "update this test and the README", "tinygrad")
    assert got[0] == np.inf
    assert float(oracle.logsumexp(x)[0]) == pytest.approx(np.log(65536))
    assert not _tg(x).softmax(-1).numpy().any()
    np.testing.assert_allclose(_tg(x[:, :8192]).logsumexp(-1).numpy().astype(float), np.log(8192), rtol=1e-3)


def test_tinygrad_float16_cross_entropy_with_a_masked_logit_is_nan():
    """Tensor.sparse_categorical_crossentropy(reduction="none") of float16 logits [0, -inf, 1] with
    target 0 is NaN (exact: log(1 + e) = 1.3133); float32 gives 1.3133: the one-hot product
    -inf * 0 of the masked entry is NaN."""
    _require("tinygrad")
    row = [[0.0, -np.inf, 1.0]]
    exact = float(oracle.cross_entropy(np.array(row), np.array([0]))[0])
    np.testing.assert_allclose(exact, np.log1p(np.e))
    targets = _tg(np.array([0]))
    got = _tg(np.array(row, dtype=np.float16)).sparse_categorical_crossentropy(targets, reduction="none").numpy()
    _reproduce(got, np.isnan(got[0]), "update this test and the README", "tinygrad")
    f32 = _tg(np.array(row, dtype=np.float32)).sparse_categorical_crossentropy(targets, reduction="none").numpy()
    np.testing.assert_allclose(f32[0], exact, rtol=1e-6)


@pytest.fixture(scope="module")
def tinygrad_certificates():
    _require("tinygrad")
    return _certify(
        "tinygrad",
        [
            ("softmax", ("float32",), ("input_unmodified", "nan_propagation")),
            ("cross_entropy", ("float16", "float32"), ("definition",)),
            ("logsumexp", ("float32",), ("input_unmodified", "lse_all_masked", "lse_posinf")),
        ],
    )


def test_suite_rejects_tinygrad_softmax_of_a_nan_on_a_length_one_axis(tinygrad_certificates):
    _assert_rejects(tinygrad_certificates["softmax"], fails=("nan_propagation", "float32", "should be nan"), passes=("input_unmodified", "float32"))


def test_suite_rejects_tinygrad_float16_cross_entropy_on_masked_rows(tinygrad_certificates):
    cert = tinygrad_certificates["cross_entropy"]
    assert not cert["certified"]
    assert _status(cert, "definition", "float32")[0] == PASS
    status, message = _status(cert, "definition", "float16")
    assert status == FAIL and "=nan, but should be" in message and "[cross_entropy(x)]" in message, message


def test_suite_rejects_tinygrad_logsumexp_of_an_infinite_max(tinygrad_certificates):
    cert = tinygrad_certificates["logsumexp"]
    assert not cert["certified"]
    assert _status(cert, "input_unmodified", "float32")[0] == PASS
    for prop, what in (("lse_all_masked", "all -inf row"), ("lse_posinf", "+inf entry")):
        status, message = _status(cert, prop, "float32")
        assert status == FAIL and what in message, message


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
            np.testing.assert_allclose(got.astype(float), OPS[op].oracle(x).astype(float), rtol=tol, atol=tol)
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
