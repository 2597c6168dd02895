"""The torch backend: ``torch.Tensor`` on the CPU or a CUDA device.

Autodiff: the float input becomes a leaf with ``requires_grad``; the VJP is
``torch.autograd.grad(out, leaf, grad_outputs=cotangent)``; finite differences are
``torch.autograd.gradcheck`` and ``gradgradcheck``. A result on CUDA exists only
after ``torch.cuda.synchronize()``.
"""
from __future__ import annotations

import warnings

import ml_dtypes
import numpy as np

from suite.backends import Backend, Conversions, Emulated, first_paragraph, native_rest, shorten
from suite.layouts import torch_layouts


def _torch():
    import torch

    return torch


# Triton's interpreter (TRITON_INTERPRET=1, read when @triton.jit decorates a kernel) runs each
# program instance through NumPy on CPU tensors: about 1.4 ms per program of a row softmax, so one
# call on 65537 rows takes about 90 s, and one row of 131072 classes 15 ms.
TRITON_INTERPRET = Emulated(
    arrays_on="cpu",
    env={"TRITON_INTERPRET": "1"},
    numerics=(
        "interpreted numerics (TRITON_INTERPRET=1): each program runs through NumPy on the CPU; the GPU's "
        "approximate exp, reduction order, grid and shared-memory limits and races are not modelled"
    ),
    unsupported={
        "bfloat16": "Triton's interpreter cannot model bfloat16: its float32 -> bfloat16 cast truncates and mangles "
        "subnormals, and it multiplies bfloat16 on the raw bits (2 x 2 gives 0); certify bfloat16 with --device cuda",
    },
    max_rows=4097,
    cost="the interpreter runs one program at a time",
    no_speed="not measured on triton-interpret: the interpreter's times say nothing of the kernel's on a GPU (use --device cuda)",
)


def conversions(device: str) -> Conversions:
    emulation = BACKEND_EMULATED.get(device)
    device = emulation.arrays_on if emulation is not None else device

    def from_numpy(a: np.ndarray):
        torch = _torch()
        if a.dtype == ml_dtypes.bfloat16:  # torch cannot read ml_dtypes; bfloat16 embeds exactly in float32
            return torch.from_numpy(a.astype(np.float32)).to(device=device, dtype=torch.bfloat16)
        if a.dtype.kind in "iu":  # class ids: torch indexes with int64 (F.cross_entropy refuses int32 targets)
            return torch.from_numpy(a.astype(np.int64)).to(device)
        return torch.from_numpy(np.array(a, copy=True)).to(device)

    def to_numpy(t) -> np.ndarray:
        torch = _torch()
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"expected torch.Tensor, got {type(t).__name__}")
        t = t.detach().cpu()
        if t.dtype == torch.bfloat16:
            return t.float().numpy().astype(ml_dtypes.bfloat16)
        return t.numpy()

    return Conversions(
        from_numpy=from_numpy,
        to_numpy=to_numpy,
        is_native=lambda t: isinstance(t, _torch().Tensor),
        native_type="torch.Tensor",
        layouts=torch_layouts(from_numpy),
    )


def vjp(adapter, op, args, kwargs, cotangent, view, disconnected):
    from suite.runner import ImplementationRaised

    torch = _torch()
    fn = adapter.ops[op]
    leaf = adapter.from_numpy(np.asarray(args[0])).detach().requires_grad_(True)
    rest = native_rest(adapter, args)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            out = fn(view(leaf), *rest, **kwargs)
    except Exception as exc:
        raise ImplementationRaised(f"forward raised {type(exc).__name__}: {exc}".strip()) from None
    if not isinstance(out, torch.Tensor):
        raise ImplementationRaised(f"returned {type(out).__name__}, expected torch.Tensor")
    if not out.requires_grad:
        if disconnected == "zeros":
            return np.zeros(leaf.shape, dtype=np.asarray(args[0]).dtype)
        raise ImplementationRaised(f"the output of {op} does not require grad: no gradient flows back to x")
    ct = adapter.from_numpy(np.asarray(cotangent)).to(dtype=out.dtype, device=out.device).reshape(out.shape)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (grad,) = torch.autograd.grad(out, leaf, grad_outputs=ct, allow_unused=True)
    except Exception as exc:
        raise ImplementationRaised(f"backward raised {type(exc).__name__}: {exc}".strip()) from None
    if grad is None:
        if disconnected == "zeros":
            return np.zeros(leaf.shape, dtype=np.asarray(args[0]).dtype)
        raise ImplementationRaised(f"the backward of {op} returned no gradient for x")
    return adapter.to_numpy(grad)


def finite_differences(adapter, op, args, kwargs, atol, step, fast=True):
    torch = _torch()
    fn = adapter.ops[op]
    leaf = adapter.from_numpy(np.asarray(args[0], dtype=np.float64)).detach().requires_grad_(True)
    rest = native_rest(adapter, args)

    def f(x):
        return fn(x, *rest, **kwargs)

    for name, check in (("gradcheck", torch.autograd.gradcheck), ("gradgradcheck", torch.autograd.gradgradcheck)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check(f, (leaf,), eps=step, atol=atol, rtol=0.0, raise_exception=True, fast_mode=fast)
        except Exception as exc:
            if type(exc).__name__ == "GradcheckError":
                return f"torch.autograd.{name}(eps={step}, atol={atol:.3g}, fast_mode={fast}) disagrees with finite differences: {first_paragraph(exc)}"
            return f"torch.autograd.{name} raised {type(exc).__name__}: {shorten(exc)}"
    return None


def waiter(device: str):
    if device == "cuda":
        return lambda out: _torch().cuda.synchronize()
    return lambda out: None


def _free_memory(device: str) -> int:
    """Bytes free on ``device``: a CUDA device's, or the host's for an emulated one (its arrays are host arrays)."""
    if device in BACKEND_EMULATED:
        import os

        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return int(_torch().cuda.mem_get_info(device)[0])


BACKEND_EMULATED = {"triton-interpret": TRITON_INTERPRET}

BACKEND = Backend(
    name="torch",
    conversions=conversions,
    glue={"cpu": "implementations.torch_cpu", "cuda": "implementations.torch_cuda", "triton-interpret": "implementations.triton_interpret"},
    # triton-interpret's is never timed (Emulated.no_speed): torch on the CPU, where its arrays live
    baselines={"cpu": "torch-cpu", "cuda": "torch-cuda", "triton-interpret": "torch-cpu"},
    vjp=vjp,
    finite_differences=finite_differences,
    waiter=waiter,
    temporaries=2,
    allocator_devices=("cpu",),
    free_device_memory=_free_memory,
    tracked=lambda t: t.detach().requires_grad_(True) if t.is_floating_point() else t,
    tracked_repro=".requires_grad_(True)",
    emulated=BACKEND_EMULATED,
)
