"""Triton: a fused row softmax, log_softmax and logsumexp, one program per row.

Each program loads its whole row as one block of BLOCK = the next power of two of the
row's length (masked lanes read -inf, which adds exp(-inf) = 0 to the sum), takes the
row's maximum, the exponentials of x - max and their sum, and writes x - max - log(sum),
exp(x - max) / sum or max + log(sum): the row is read from memory once. The arithmetic
is float32 for 16-bit and float32 rows and float64 for float64 rows; the result is
rounded once to the input's dtype. Rows wider than MAX_BLOCK classes do not fit one
block: they take a looped kernel that keeps a running maximum and rescales the running
sum whenever the maximum grows (the online softmax), then writes the row in a second
loop. logsumexp shifts by the maximum only where it is finite, so a row of -inf gives
-inf and a row holding +inf gives +inf, as torch.logsumexp does.

Without a GPU the column runs under Triton's interpreter (device "triton-interpret":
the kernels run through NumPy on CPU tensors, the numerics are NumPy's); with one it
runs on device "cuda". The kernels are built at their first call, after the worker
has set TRITON_INTERPRET, which Triton reads when @triton.jit decorates.
"""
from __future__ import annotations

import functools
import importlib.util
import math
import os

from suite.adapter import backend_adapter

DTYPES = ("float16", "float32", "float64")
# Widest row one block holds: past it a block's registers spill on a GPU.
MAX_BLOCK = 65536
# The looped kernel's block.
LOOP_BLOCK = 4096


def triton_missing() -> str | None:
    """Why Triton kernels cannot run here (torch or triton not installed), or None."""
    for module, extra in (("torch", "torch"), ("triton", "triton")):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install 'softmax-suite[{extra}]')"
    return None


def default_device() -> str:
    """"cuda" where an NVIDIA driver is loaded and a device is visible, else "triton-interpret";
    decided without importing torch (every built-in module is imported to list the columns)."""
    hidden = os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1")
    return "cuda" if os.path.exists("/proc/driver/nvidia/version") and not hidden else "triton-interpret"


def triton_versions(device: str) -> dict[str, str]:
    import torch
    import triton

    found = {"torch": torch.__version__, "triton": triton.__version__}
    if device == "triton-interpret":
        found["numerics"] = "interpreted (TRITON_INTERPRET=1)"
    return found


def _torch():
    import torch

    return torch


@functools.cache
def _kernels():
    import triton
    import triton.language as tl

    @triton.jit
    def fused(x_ptr, out_ptr, n_cols, MODE: tl.constexpr, WIDE: tl.constexpr, BLOCK: tl.constexpr):
        row = tl.program_id(0).to(tl.int64)
        cols = tl.arange(0, BLOCK)
        inside = cols < n_cols
        x = tl.load(x_ptr + row * n_cols + cols, mask=inside, other=-float("inf"))
        x = x.to(tl.float64) if WIDE else x.to(tl.float32)
        m = tl.max(x, axis=0)
        if MODE == 2:  # logsumexp: shift by the maximum only where it is finite
            shift = tl.where(tl.abs(m) == float("inf"), 0.0, m)
            total = tl.sum(tl.exp(x - shift), axis=0)
            tl.store(out_ptr + row, (shift + tl.log(total)).to(out_ptr.dtype.element_ty))
        else:
            e = tl.exp(x - m)
            total = tl.sum(e, axis=0)
            y = e / total if MODE == 0 else x - m - tl.log(total)
            tl.store(out_ptr + row * n_cols + cols, y.to(out_ptr.dtype.element_ty), mask=inside)

    @triton.jit
    def looped(x_ptr, out_ptr, n_cols, MODE: tl.constexpr, WIDE: tl.constexpr, BLOCK: tl.constexpr):
        row = tl.program_id(0).to(tl.int64)
        base = x_ptr + row * n_cols
        zero = tl.zeros([BLOCK], dtype=tl.float64 if WIDE else tl.float32)
        m = tl.max(zero - float("inf"), axis=0)
        total = tl.sum(zero, axis=0)
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            x = tl.load(base + cols, mask=cols < n_cols, other=-float("inf")).to(zero.dtype)
            m_new = tl.maximum(m, tl.max(x, axis=0))
            # Against a finite reference only: (-inf) - (-inf) is NaN while every entry so far is -inf.
            ref = tl.where(tl.abs(m_new) == float("inf"), 0.0, m_new)
            old = tl.where(m == -float("inf"), 0.0, total * tl.exp(m - ref))
            total = old + tl.sum(tl.exp(x - ref), axis=0)
            m = m_new
        ref = tl.where(tl.abs(m) == float("inf"), 0.0, m)
        if MODE == 2:
            tl.store(out_ptr + row, (ref + tl.log(total)).to(out_ptr.dtype.element_ty))
        else:
            for start in range(0, n_cols, BLOCK):
                cols = start + tl.arange(0, BLOCK)
                inside = cols < n_cols
                x = tl.load(base + cols, mask=inside, other=-float("inf")).to(zero.dtype)
                y = tl.exp(x - m) / total if MODE == 0 else x - m - tl.log(total)
                tl.store(out_ptr + row * n_cols + cols, y.to(out_ptr.dtype.element_ty), mask=inside)

    return fused, looped


def rowwise(x, axis, reduces: bool, launch):
    """Run ``launch(rows, out, n_rows, n_cols)`` on ``x`` viewed as contiguous rows along ``axis``
    (moved last), and give the result the op's shape: like ``x``, or ``x`` without ``axis``
    when ``reduces``. Empty inputs are answered here: a kernel grid cannot be empty."""
    torch = _torch()
    moved = torch.movedim(x.reshape(1) if x.ndim == 0 else x, axis if x.ndim else 0, -1).contiguous()
    n_cols = moved.shape[-1]
    rows = moved.reshape(math.prod(moved.shape[:-1]), n_cols)
    out = torch.empty(rows.shape[0] if reduces else rows.shape, dtype=x.dtype, device=x.device)
    if n_cols == 0:
        out.fill_(-float("inf"))  # logsumexp of no classes; softmax of no classes is empty
    elif rows.shape[0]:
        launch(rows, out, rows.shape[0], n_cols)
    if reduces:
        return out.reshape(moved.shape[:-1])
    return torch.movedim(out.reshape(moved.shape), -1, axis if x.ndim else 0).reshape(x.shape)


def _run(x, axis, mode: int):
    import triton

    fused, looped = _kernels()
    wide = x.dtype == _torch().float64

    def launch(rows, out, n_rows, n_cols):
        block = triton.next_power_of_2(n_cols)
        if block <= MAX_BLOCK:
            fused[(n_rows,)](rows, out, n_cols, MODE=mode, WIDE=wide, BLOCK=block)
        else:
            looped[(n_rows,)](rows, out, n_cols, MODE=mode, WIDE=wide, BLOCK=LOOP_BLOCK)

    return rowwise(x, axis, mode == 2, launch)


class _Rows:
    """An op whose forward is the kernel and whose backward is torch's closed form (autograd.Function)."""

    @staticmethod
    def function(mode: int):
        torch = _torch()

        class Op(torch.autograd.Function):
            @staticmethod
            def forward(ctx, x, axis):
                y = _run(x, axis, mode)
                ctx.save_for_backward(y)
                ctx.axis = axis
                return y

            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors
                axis = ctx.axis
                if mode == 0:  # softmax: y * (g - sum(g * y))
                    return y * (g - (g * y).sum(axis, keepdim=True)), None
                if mode == 1:  # log_softmax: g - exp(y) * sum(g)
                    return g - torch.exp(y) * g.sum(axis, keepdim=True), None
                raise RuntimeError("logsumexp's backward needs x; see _LogSumExp")

        return Op


@functools.cache
def _functions():
    torch = _torch()

    class LogSumExp(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, axis):
            y = _run(x, axis, 2)
            ctx.save_for_backward(x, y)
            ctx.axis = axis
            return y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            axis = ctx.axis if x.ndim else 0
            if x.ndim == 0:
                return g * torch.exp(x - y), None
            return g.unsqueeze(axis) * torch.exp(x - y.unsqueeze(axis)), None

    return _Rows.function(0), _Rows.function(1), LogSumExp


def softmax(x, axis=-1):
    return _functions()[0].apply(x, axis)


def log_softmax(x, axis=-1):
    return _functions()[1].apply(x, axis)


def logsumexp(x, axis=-1):
    return _functions()[2].apply(x, axis)


def triton_adapter(name: str, ops, device: str | None = None, description: str = ""):
    """An adapter of Triton kernels on the torch backend: on ``device`` (default: cuda with a GPU,
    triton-interpret without), unavailable without torch or triton."""
    device = device or default_device()
    return backend_adapter(
        "torch", device, name, ops, DTYPES,
        unavailable_reason=triton_missing,
        description=description,
        versions=lambda: triton_versions(device),
    )


ADAPTER = triton_adapter(
    "triton-softmax",
    {"softmax": softmax, "log_softmax": log_softmax, "logsumexp": logsumexp},
    description="Triton fused row softmax (one program per row, one block per row up to 65536 classes, online "
    "softmax past it); forward kernels, backward in torch ops",
)
