"""Liger-Kernel (optional extra ``liger``): its Triton softmax and cross-entropy, as trainers call them.

    softmax        liger_kernel.ops.softmax.LigerSoftmaxFunction.apply(x) along the last axis (its
                   only one): x's axis is moved last and back with torch.movedim, as a caller does
    cross_entropy  liger_kernel.ops.cross_entropy.LigerCrossEntropyFunction.apply(logits, targets,
                   weight, ignore_index, lse_square_scale, label_smoothing, reduction, softcap)[0]
                   (its first output, the loss); the contract's plain form is reduction="none",
                   z_loss is Liger's lse_square_scale

Both are autograd.Functions with Triton backward passes (cross-entropy computes its gradient in
the forward and stores it in the logits), so the column is differentiable. Without a GPU the
kernels run under Triton's interpreter on CPU tensors (device "triton-interpret": float16,
float32, float64; NumPy's numerics), with one on "cuda" (bfloat16 too). The kernels are built
when liger_kernel.ops is first imported, at the first call: after the worker has set
TRITON_INTERPRET, which Triton reads when @triton.jit decorates.

Under the interpreter two of cross-entropy's options need what Triton 3.9's interpreter lacks:
it passes a Python float kernel argument through as a Python float, where compiled Triton passes
an fp32 scalar (Liger's weighted path calls ``sum_non_ignore_weight.to(tl.float32)``), so while a
call runs, float arguments are converted as the compiled launcher does (:func:`_float_args`); and
it does not interpret libdevice calls (Liger's softcap path calls libdevice's tanh, which returns
None there), so ``softcap`` is declared on cuda only. Nothing else is worked around: a defect of
Liger-Kernel shows in the certificate as it is (suite/bugs_found.py has those found).
"""
from __future__ import annotations

import contextlib
import functools

from suite.adapter import backend_adapter, extra_missing, installed_version
from implementations.triton_softmax import default_device, triton_versions

DEVICE = default_device()
DTYPES = ("float16", "float32", "float64") + (("bfloat16",) if DEVICE == "cuda" else ())
OPTIONS = frozenset({"ignore_index", "label_smoothing", "weight", "reduction", "z_loss"}) | (
    frozenset({"softcap"}) if DEVICE == "cuda" else frozenset()
)


def unavailable_reason() -> str | None:
    return extra_missing("liger", "torch", "triton", "liger_kernel")


@functools.cache
def _liger():
    from liger_kernel.ops.cross_entropy import LigerCrossEntropyFunction
    from liger_kernel.ops.softmax import LigerSoftmaxFunction

    return LigerSoftmaxFunction, LigerCrossEntropyFunction


@contextlib.contextmanager
def _float_args():
    """Under the interpreter: Python float kernel arguments become fp32 scalars, as compiled Triton
    passes them (triton.runtime.jit.mangle_type gives "fp32"); restored after the call."""
    if DEVICE != "triton-interpret":
        yield
        return
    import numpy as np
    import triton
    import triton.language as tl
    from triton.runtime import interpreter

    plain = interpreter._implicit_cvt

    def convert(arg):
        if isinstance(arg, float):
            ty = tl.str_to_ty(triton.runtime.jit.mangle_type(arg), None)
            return tl.tensor(interpreter.TensorHandle(np.array([arg], dtype=np.float32), ty), ty)
        return plain(arg)

    interpreter._implicit_cvt = convert
    try:
        yield
    finally:
        interpreter._implicit_cvt = plain


def softmax(x, axis=-1):
    import torch

    fn = _liger()[0]
    if x.ndim == 0:
        return fn.apply(x.reshape(1)).reshape(())
    return torch.movedim(fn.apply(torch.movedim(x, axis, -1)), -1, axis)


def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0, weight=None, reduction="none", z_loss=0.0, softcap=None):
    fn = _liger()[1]
    with _float_args():
        return fn.apply(logits, targets, weight, ignore_index, z_loss, label_smoothing, reduction, softcap)[0]


def versions() -> dict[str, str]:
    return {"liger-kernel": installed_version("liger-kernel", "liger_kernel").strip()} | triton_versions(DEVICE)


ADAPTER = backend_adapter(
    "torch", DEVICE, "liger-kernel",
    {"softmax": softmax, "cross_entropy": cross_entropy},
    DTYPES,
    unavailable_reason=unavailable_reason,
    description=f"Liger-Kernel {installed_version('liger-kernel', 'liger_kernel')}Triton kernels "
    f"(LigerSoftmaxFunction, LigerCrossEntropyFunction) on {DEVICE}",
    versions=versions,
    options={"cross_entropy": OPTIONS},
    own_worker=True,
)
