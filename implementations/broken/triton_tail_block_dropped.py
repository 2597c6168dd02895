"""A blocked Triton softmax that drops the last, partial block of a row.

What is wrong: the kernel walks a row in blocks of 1024 classes, and counts its blocks as
n_cols // BLOCK (at least one) where it needs cdiv(n_cols, BLOCK): a row whose length is not
a multiple of 1024 has its tail left out of the maximum and the sum, and its tail outputs never
written (they keep whatever the output's memory held). Rows up to 1024 classes and rows of a
multiple of 1024 classes are right, so the ordinary draws (at most 512 classes) never see it.
Seen in: the floor-instead-of-ceiling block count of tiled kernels, e.g. verl#2899's
vocabulary of 129920 (not a multiple of the block); implementations/broken/blockwise_tail_dropped.py
is the same bug in NumPy.
Must be caught by: definition, whose widest pass runs one row of 262145 = 256 * 1024 + 1
classes at every seed (its last output is never written).
"""
from __future__ import annotations

import functools

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "torch", "device": "triton-interpret",
     "dtypes": ["float32"], "caught_by": ["definition"], "forward_only": True},
]

BLOCK = 1024


@functools.cache
def _kernel():
    import triton
    import triton.language as tl

    @triton.jit
    def blocked_softmax(x_ptr, out_ptr, n_cols, n_blocks, BLOCK: tl.constexpr):
        row = tl.program_id(0).to(tl.int64)
        base = x_ptr + row * n_cols
        m = tl.max(tl.full([BLOCK], -float("inf"), tl.float32), axis=0)
        for b in range(0, n_blocks):
            cols = b * BLOCK + tl.arange(0, BLOCK)
            x = tl.load(base + cols, mask=cols < n_cols, other=-float("inf")).to(tl.float32)
            m = tl.maximum(m, tl.max(x, axis=0))
        total = tl.sum(tl.zeros([BLOCK], tl.float32), axis=0)
        for b in range(0, n_blocks):
            cols = b * BLOCK + tl.arange(0, BLOCK)
            x = tl.load(base + cols, mask=cols < n_cols, other=-float("inf")).to(tl.float32)
            total += tl.sum(tl.exp(x - m), axis=0)
        for b in range(0, n_blocks):
            cols = b * BLOCK + tl.arange(0, BLOCK)
            inside = cols < n_cols
            x = tl.load(base + cols, mask=inside, other=-float("inf")).to(tl.float32)
            tl.store(out_ptr + row * n_cols + cols, (tl.exp(x - m) / total).to(out_ptr.dtype.element_ty), mask=inside)

    return blocked_softmax


def softmax(x, axis=-1):
    from implementations.triton_softmax import rowwise

    def launch(rows, out, n_rows, n_cols):
        n_blocks = max(1, n_cols // BLOCK)  # the bug: cdiv(n_cols, BLOCK) is right
        _kernel()[(n_rows,)](rows, out, n_cols, n_blocks, BLOCK=BLOCK)

    return rowwise(x, axis, False, launch)
