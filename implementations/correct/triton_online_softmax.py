"""An online softmax in Triton, lane by lane: one pass over a row keeps a running maximum and
sum per lane of a 2048-wide block, and merges the lanes at the end.

What it is: the online normaliser of Milakov and Gimelshein (2018) vectorised across the block:
lane j holds the maximum m_j of the entries it has seen (columns j, j + 2048, ...) and
s_j = sum exp(x - m_j) over them, rescaled by exp(m_j - m_j') when its maximum grows. At the end
the row's maximum is m = max_j m_j and its sum sum_j s_j exp(m_j - m). Every exponential is
taken against a finite reference (the lane's maximum, or 0 while it is -inf or +inf), so a lane
or a whole block of -inf entries gives 0, never (-inf) - (-inf) = NaN: compare
implementations/broken/triton_online_masked_block.py. A row holding +inf is NaN for softmax and
log_softmax and +inf for logsumexp, as torch gives. float16 rows are computed in float32 and
float64 rows in float64, rounded once. Rows past 2048 classes (the kernel-scale draws) take
several blocks, most with a partial last one; blocks this wide keep a call on one row of 262145
classes near a second under the interpreter, which pays for every block.
What is wrong: nothing. Each rescaling adds a rounding per lane, well inside the bound.
Must be: certified for softmax, log_softmax and logsumexp under Triton's interpreter
(float16, float32, float64; forward kernels, so --forward-only).
"""
from __future__ import annotations

import functools

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "torch", "device": "triton-interpret", "forward_only": True},
    {"function": "log_softmax", "op": "log_softmax", "backend": "torch", "device": "triton-interpret", "forward_only": True},
    {"function": "logsumexp", "op": "logsumexp", "backend": "torch", "device": "triton-interpret", "forward_only": True},
]

BLOCK = 2048


@functools.cache
def _kernel():
    import triton
    import triton.language as tl

    @triton.jit
    def lanes(x_ptr, out_ptr, n_cols, MODE: tl.constexpr, WIDE: tl.constexpr, BLOCK: tl.constexpr):
        row = tl.program_id(0).to(tl.int64)
        base = x_ptr + row * n_cols
        s = tl.zeros([BLOCK], dtype=tl.float64 if WIDE else tl.float32)
        m = s - float("inf")
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            x = tl.load(base + cols, mask=cols < n_cols, other=-float("inf")).to(s.dtype)
            m_new = tl.maximum(m, x)
            ref_old = tl.where(tl.abs(m) == float("inf"), 0.0, m)
            ref_new = tl.where(tl.abs(m_new) == float("inf"), 0.0, m_new)
            # nothing to rescale while a lane has seen only -inf (0 * exp(ref_old - ref_new) may be 0 * inf)
            s = tl.where(m == -float("inf"), 0.0, s * tl.exp(ref_old - ref_new)) + tl.exp(x - ref_new)
            m = m_new
        top = tl.max(m, axis=0)
        ref = tl.where(tl.abs(top) == float("inf"), 0.0, top)
        lane_ref = tl.where(tl.abs(m) == float("inf"), 0.0, m)
        total = tl.sum(tl.where(s == 0, 0.0, s * tl.exp(lane_ref - ref)), axis=0)
        if MODE == 2:
            tl.store(out_ptr + row, (ref + tl.log(total)).to(out_ptr.dtype.element_ty))
        else:
            total = tl.where(top == float("inf"), float("nan"), total)
            for start in range(0, n_cols, BLOCK):
                cols = start + tl.arange(0, BLOCK)
                inside = cols < n_cols
                x = tl.load(base + cols, mask=inside, other=-float("inf")).to(s.dtype)
                y = tl.exp(x - top) / total if MODE == 0 else x - top - tl.log(total)
                tl.store(out_ptr + row * n_cols + cols, y.to(out_ptr.dtype.element_ty), mask=inside)

    return lanes


def _run(x, axis, mode):
    import torch

    from implementations.triton_softmax import rowwise

    wide = x.dtype == torch.float64
    return rowwise(x, axis, mode == 2, lambda rows, out, n_rows, n_cols: _kernel()[(n_rows,)](rows, out, n_cols, MODE=mode, WIDE=wide, BLOCK=BLOCK))


def softmax(x, axis=-1):
    return _run(x, axis, 0)


def log_softmax(x, axis=-1):
    return _run(x, axis, 1)


def logsumexp(x, axis=-1):
    return _run(x, axis, 2)
