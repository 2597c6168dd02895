"""ONNX Runtime on its CPU execution provider: one-node ONNX models, run as its documentation says.

Each op is an ONNX graph built with ``onnx.helper`` at opset ``OPSET`` (the newest ``ai.onnx``
opset ONNX Runtime 1.30 officially supports; tests/test_libraries.py checks that the installed
onnxruntime loads it and refuses the next one), once per op, dtype, rank and axis (cached),
and run with ``onnxruntime.InferenceSession(model.SerializeToString(),
providers=["CPUExecutionProvider"])``, in the caller's dtype:

    softmax              Softmax(axis)
    log_softmax          LogSoftmax(axis)
    logsumexp            ReduceLogSumExp(x, axes=[axis], keepdims=0) (axes is an input since opset 18)
    cross_entropy        SoftmaxCrossEntropyLoss(logits, targets, reduction="none"); the targets are
                         passed as given: its labels may be int32 or int64, as the contract's
    temperature_softmax  Softmax(Div(x, T), axis) in one graph, T a scalar input of x's dtype

dtypes: float16, float32 and float64, which the CPU provider runs for all five. bfloat16 is left
out: the CPU provider has no bfloat16 kernel for any of them (NOT_IMPLEMENTED when the session is
created). No sampler: ``Multinomial`` (unnormalised log-probabilities in, which would fit the
gumbel_max contract) has no CPU kernel at opset 22 and later (``Multinomial(22)``: NOT_IMPLEMENTED
at opset 26). Nothing here works around what ONNX Runtime returns; a library's defect shows in the
certificate as it is.
"""
from __future__ import annotations

import functools

import numpy as np

from suite.adapter import extra_missing, installed_version, numpy_adapter

OPSET = 26
DTYPES = ("float16", "float32", "float64")


def _description() -> str:
    return f"ONNX Runtime {installed_version('onnxruntime')}(CPU provider, opset {OPSET})"


def unavailable_reason() -> str | None:
    return extra_missing("onnxruntime", "onnxruntime", "onnx")


def _elem_type(dtype) -> int:
    from onnx import helper

    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


@functools.lru_cache(maxsize=None)
def _session(op: str, dtype: np.dtype, rank: int, axis: int, target_dtype: np.dtype | None = None):
    """An InferenceSession running the one-node graph of ``op`` on inputs of ``dtype`` and ``rank``."""
    import onnxruntime
    from onnx import TensorProto, helper

    elem = _elem_type(dtype)
    inputs = [helper.make_tensor_value_info("x", elem, [None] * rank)]
    out_rank = rank
    if op in ("softmax", "log_softmax"):
        nodes = [helper.make_node("Softmax" if op == "softmax" else "LogSoftmax", ["x"], ["y"], axis=axis)]
    elif op == "temperature_softmax":
        inputs.append(helper.make_tensor_value_info("t", elem, []))
        nodes = [helper.make_node("Div", ["x", "t"], ["scaled"]), helper.make_node("Softmax", ["scaled"], ["y"], axis=axis)]
    elif op == "logsumexp":
        inputs.append(helper.make_tensor_value_info("axes", TensorProto.INT64, [1]))
        nodes = [helper.make_node("ReduceLogSumExp", ["x", "axes"], ["y"], keepdims=0)]
        out_rank = rank - 1
    elif op == "cross_entropy":
        inputs.append(helper.make_tensor_value_info("t", _elem_type(target_dtype), [None]))
        nodes = [helper.make_node("SoftmaxCrossEntropyLoss", ["x", "t"], ["y"], reduction="none")]
        out_rank = 1
    else:
        raise ValueError(f"no ONNX graph for {op!r}")
    graph = helper.make_graph(nodes, f"softmax_suite_{op}", inputs, [helper.make_tensor_value_info("y", elem, [None] * out_rank)])
    opset = [helper.make_opsetid("", OPSET)]
    model = helper.make_model(graph, opset_imports=opset, ir_version=helper.find_min_ir_version_for(opset))
    return onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def softmax(x, axis=-1):
    return _session("softmax", x.dtype, x.ndim, int(axis)).run(["y"], {"x": x})[0]


def log_softmax(x, axis=-1):
    return _session("log_softmax", x.dtype, x.ndim, int(axis)).run(["y"], {"x": x})[0]


def logsumexp(x, axis=-1):
    axes = np.array([axis], dtype=np.int64)
    return _session("logsumexp", x.dtype, x.ndim, 0).run(["y"], {"x": x, "axes": axes})[0]


def cross_entropy(logits, targets):
    session = _session("cross_entropy", logits.dtype, logits.ndim, 0, targets.dtype)
    return session.run(["y"], {"x": logits, "t": targets})[0]


def temperature_softmax(x, temperature, axis=-1):
    t = np.asarray(temperature, dtype=x.dtype)
    return _session("temperature_softmax", x.dtype, x.ndim, int(axis)).run(["y"], {"x": x, "t": t})[0]


def versions() -> dict[str, str]:
    import onnx
    import onnxruntime

    return {"onnxruntime": onnxruntime.__version__, "onnx": onnx.__version__, "ai.onnx opset": str(OPSET)}


ADAPTER = numpy_adapter(
    "onnxruntime",
    {
        "softmax": softmax,
        "log_softmax": log_softmax,
        "logsumexp": logsumexp,
        "cross_entropy": cross_entropy,
        "temperature_softmax": temperature_softmax,
    },
    DTYPES,
    description=_description(),
    versions=versions,
    unavailable_reason=unavailable_reason,
    own_worker=True,
)
