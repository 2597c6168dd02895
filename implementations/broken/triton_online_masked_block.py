"""An online Triton softmax whose rescale is NaN when a row's first block is all -inf.

What is wrong: the kernel keeps a running maximum m (from -inf) and a running sum over blocks
of 1024 classes, rescaling the sum by exp(m - m_new) and adding exp(x - m_new) for each block,
with no guard for a maximum that is still -inf. When every entry of a row's first block is -inf
(a padded or causally masked prefix), m_new is -inf and both terms are exp((-inf) - (-inf)) =
NaN, and the whole row comes out NaN although it has finite entries. Rows with a finite entry
in their first block are right, so random masks (which almost never cover 1024 entries in a
row) and rows up to 1024 classes never see it.
Seen in: online-softmax kernels run on masked rows: Liger-Kernel's cross-entropy (an online
max over blocks of the vocabulary) and FlashAttention-style attention on a fully masked first
key block; implementations/correct/online_softmax.py lists more.
Must be caught by: masked_entries, whose widest pass masks the first half of one row of
262145 classes at every seed (suite.properties.invariants.masked_prefix).
"""
from __future__ import annotations

import functools

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "torch", "device": "triton-interpret",
     "dtypes": ["float32"], "caught_by": ["masked_entries"], "forward_only": True},
]

BLOCK = 1024


@functools.cache
def _kernel():
    import triton
    import triton.language as tl

    @triton.jit
    def online_softmax(x_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
        row = tl.program_id(0).to(tl.int64)
        base = x_ptr + row * n_cols
        m = tl.max(tl.full([BLOCK], -float("inf"), tl.float32), axis=0)
        total = tl.sum(tl.zeros([BLOCK], tl.float32), axis=0)
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            x = tl.load(base + cols, mask=cols < n_cols, other=-float("inf")).to(tl.float32)
            m_new = tl.maximum(m, tl.max(x, axis=0))
            total = total * tl.exp(m - m_new) + tl.sum(tl.exp(x - m_new), axis=0)  # the bug: no guard for m_new = -inf
            m = m_new
        for start in range(0, n_cols, BLOCK):
            cols = start + tl.arange(0, BLOCK)
            inside = cols < n_cols
            x = tl.load(base + cols, mask=inside, other=-float("inf")).to(tl.float32)
            tl.store(out_ptr + row * n_cols + cols, (tl.exp(x - m) / total).to(out_ptr.dtype.element_ty), mask=inside)

    return online_softmax


def softmax(x, axis=-1):
    from implementations.triton_softmax import rowwise

    return rowwise(x, axis, False, lambda rows, out, n_rows, n_cols: _kernel()[(n_rows,)](rows, out, n_cols, BLOCK=BLOCK))
