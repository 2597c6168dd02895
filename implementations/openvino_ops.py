"""OpenVINO on its CPU device: one-op models, built and run as its documentation says.

softmax, log_softmax, temperature_softmax and gumbel_max are models built with the opset
functions of ``openvino.opset16`` (the newest complete opset module of OpenVINO 2026.4;
``openvino.opset17`` is still under development and holds only its two new ops), on an
``ops.parameter`` of the caller's dtype and rank (dynamic dimensions). OpenVINO's opsets have
no log-sum-exp and no cross-entropy op, so logsumexp and cross_entropy take the route its
users take for them: a one-node ONNX model (opset ``OPSET``, built with ``onnx.helper``, the
model the onnxruntime adapter runs) read by OpenVINO's ONNX frontend,
``ov.Core().read_model(model.SerializeToString())``. Every model is compiled once per op,
dtype, rank and axis (cached) with ``ov.Core().compile_model(model, "CPU")`` and called:

    softmax              ops.softmax(x, axis)                                  (Softmax-8)
    log_softmax          ops.log_softmax(x, axis)                              (LogSoftmax-5)
    logsumexp            ONNX ReduceLogSumExp(x, axes=[axis], keepdims=0) via the ONNX frontend
                         (which lowers it to ReduceMax, Subtract, Exp, ReduceSum, Log, Add)
    cross_entropy        ONNX SoftmaxCrossEntropyLoss(logits, targets, reduction="none") via the
                         ONNX frontend; the targets are passed as given (int32 or int64)
    temperature_softmax  ops.softmax(ops.divide(x, ops.constant(t, dtype=x's type)), axis)
                         (the temperature a constant of the model, compiled once per value)
    gumbel_max           ops.multinomial(logits[None, :], n, "i64", with_replacement=True,
                         log_probs=True, global_seed=seed, op_seed=0)[0]       (Multinomial-13:
                         its log_probs=True takes unnormalised log-probabilities, the logits)

OpenVINO has no Gumbel-softmax op, so the adapter has none.

dtypes: float16, bfloat16, float32 and float64, all of which the CPU device accepts and returns
for these ops. NumPy has no bfloat16: OpenVINO's Python API copies a bfloat16 input's bits (an
``ml_dtypes.bfloat16`` array is read as such) and returns a bfloat16 output as a float16 array
holding the bfloat16 bits, which the adapter views as ``ml_dtypes.bfloat16`` (a reinterpretation
of the same bits, nothing computed). What the CPU device computes in:

* the default inference precision, ``core.get_property("CPU", "INFERENCE_PRECISION_HINT")``, is
  float32 on the machine the published matrix ran on (an AMD EPYC without AVX-512 BF16 or AMX;
  on CPUs with them the default is bfloat16, and a float32 model runs in bfloat16). The adapter
  leaves the hint at its default, as users who call OpenVINO as documented do;
* float64 is not a CPU-device precision: a float64 model runs in float32 and its outputs are
  converted back (so -inf saturates to -FLT_MAX, a fully masked row is uniform, and float64
  accuracy is float32's). That is OpenVINO's behaviour, and the certificate shows it.

Nothing here works around what OpenVINO returns; a library's defect shows in the certificate as
it is.
"""
from __future__ import annotations

import functools

import numpy as np

from suite.adapter import extra_missing, installed_version, numpy_adapter

OPSET = 26  # the ai.onnx opset of the logsumexp and cross_entropy models (as implementations/onnxruntime_ops.py)
DTYPES = ("float16", "bfloat16", "float32", "float64")


def _description() -> str:
    return f"OpenVINO {installed_version('openvino')}on the CPU device (opset16; ONNX frontend for logsumexp and cross_entropy)"


def unavailable_reason() -> str | None:
    return extra_missing("openvino", "openvino", "onnx")


@functools.cache
def _core():
    import openvino as ov

    return ov.Core()


def _ov_type(dtype):
    """OpenVINO's element type of a NumPy dtype (ml_dtypes.bfloat16 is OpenVINO's bf16)."""
    import openvino as ov

    dtype = np.dtype(dtype)
    return ov.Type.bf16 if dtype.name == "bfloat16" else ov.Type(dtype)


def _result(out: np.ndarray, dtype) -> np.ndarray:
    """The caller's dtype of an output: bfloat16 comes back as float16 holding its bits."""
    dtype = np.dtype(dtype)
    if dtype.name == "bfloat16" and out.dtype == np.float16:
        return out.view(dtype)
    return out


@functools.lru_cache(maxsize=None)
def _compiled(op: str, dtype: np.dtype, rank: int, axis: int, extra=None):
    """The compiled model of ``op`` on inputs of ``dtype`` and ``rank`` (``extra``: the
    temperature of temperature_softmax, the targets' dtype of cross_entropy)."""
    import openvino as ov
    import openvino.opset16 as ops

    if op in ("logsumexp", "cross_entropy"):
        return _core().compile_model(_core().read_model(_onnx_model(op, dtype, rank, axis, extra)), "CPU")
    x = ops.parameter([-1] * rank, _ov_type(dtype), name="x")
    if op == "softmax":
        y = ops.softmax(x, axis)
    elif op == "log_softmax":
        y = ops.log_softmax(x, axis)
    elif op == "temperature_softmax":
        y = ops.softmax(ops.divide(x, ops.constant(extra, dtype=_ov_type(dtype))), axis)
    else:
        raise ValueError(f"no OpenVINO model for {op!r}")
    return _core().compile_model(ov.Model([y], [x], f"softmax_suite_{op}"), "CPU")


def _onnx_model(op: str, dtype: np.dtype, rank: int, axis: int, target_dtype) -> bytes:
    from onnx import TensorProto, helper

    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    inputs = [helper.make_tensor_value_info("x", elem, [None] * rank)]
    initializers = []
    if op == "logsumexp":
        initializers.append(helper.make_tensor("axes", TensorProto.INT64, [1], [axis]))
        nodes = [helper.make_node("ReduceLogSumExp", ["x", "axes"], ["y"], keepdims=0)]
        out_rank = rank - 1
    else:
        inputs.append(helper.make_tensor_value_info("t", helper.np_dtype_to_tensor_dtype(np.dtype(target_dtype)), [None]))
        nodes = [helper.make_node("SoftmaxCrossEntropyLoss", ["x", "t"], ["y"], reduction="none")]
        out_rank = 1
    outputs = [helper.make_tensor_value_info("y", elem, [None] * out_rank)]
    graph = helper.make_graph(nodes, f"softmax_suite_{op}", inputs, outputs, initializers)
    opset = [helper.make_opsetid("", OPSET)]
    model = helper.make_model(graph, opset_imports=opset, ir_version=helper.find_min_ir_version_for(opset))
    return model.SerializeToString()


@functools.lru_cache(maxsize=256)
def _sampler(dtype: np.dtype, seed: int):
    """Multinomial-13 on (1, K) logits of ``dtype``, n an i64 input, the seed its global_seed."""
    import openvino as ov
    import openvino.opset16 as ops

    logits = ops.parameter([1, -1], _ov_type(dtype), name="logits")
    n = ops.parameter([], ov.Type.i64, name="num_samples")
    y = ops.multinomial(logits, n, "i64", with_replacement=True, log_probs=True, global_seed=seed, op_seed=0)
    return _core().compile_model(ov.Model([y], [logits, n], "softmax_suite_gumbel_max"), "CPU")


def softmax(x, axis=-1):
    return _result(_compiled("softmax", x.dtype, x.ndim, int(axis))(x)[0], x.dtype)


def log_softmax(x, axis=-1):
    return _result(_compiled("log_softmax", x.dtype, x.ndim, int(axis))(x)[0], x.dtype)


def logsumexp(x, axis=-1):
    return _result(_compiled("logsumexp", x.dtype, x.ndim, int(axis))(x)[0], x.dtype)


def cross_entropy(logits, targets):
    model = _compiled("cross_entropy", logits.dtype, logits.ndim, 0, np.dtype(targets.dtype))
    return _result(model([logits, targets])[0], logits.dtype)


def temperature_softmax(x, temperature, axis=-1):
    return _result(_compiled("temperature_softmax", x.dtype, x.ndim, int(axis), float(temperature))(x)[0], x.dtype)


def gumbel_max(logits, num_samples, seed):
    """One batch row of logits, ``num_samples`` draws with replacement, global_seed ``seed``."""
    return _sampler(logits.dtype, int(seed))([logits[None, :], np.array(int(num_samples), dtype=np.int64)])[0][0]


def versions() -> dict[str, str]:
    import onnx
    import openvino

    return {
        "openvino": openvino.__version__,
        "onnx": onnx.__version__,
        "ai.onnx opset (ONNX frontend)": str(OPSET),
        "CPU INFERENCE_PRECISION_HINT": _core().get_property("CPU", "INFERENCE_PRECISION_HINT").get_type_name(),
    }


ADAPTER = numpy_adapter(
    "openvino",
    {
        "softmax": softmax,
        "log_softmax": log_softmax,
        "logsumexp": logsumexp,
        "cross_entropy": cross_entropy,
        "temperature_softmax": temperature_softmax,
        "gumbel_max": gumbel_max,
    },
    DTYPES,
    description=_description(),
    versions=versions,
    unavailable_reason=unavailable_reason,
    own_worker=True,
)
