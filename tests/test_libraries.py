"""The built-in adapters of real libraries (optional extras): ONNX Runtime, TensorFlow and tinygrad.

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

import numpy as np
import pytest

from suite import oracle
from suite.adapter import builtin
from suite.certify import builtin_request, certify_many
from suite.cli import EXIT_USAGE, main
from suite.runner import FAIL, PASS

LIBRARIES = {
    # adapter name: (the modules it needs, the extra that installs them)
    "onnxruntime": (("onnxruntime", "onnx"), "onnxruntime"),
    "tensorflow": (("tensorflow",), "tensorflow"),
    "tinygrad": (("tinygrad",), "tinygrad"),
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
    cert = tinygrad_certificates["softmax"]
    assert not cert["certified"]
    assert _status(cert, "input_unmodified", "float32")[0] == PASS
    status, message = _status(cert, "nan_propagation", "float32")
    assert status == FAIL and "should be nan" in message, message


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
