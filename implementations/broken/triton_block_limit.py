"""A Triton row softmax that refuses rows wider than one block of 65536 classes.

What is wrong: the kernel loads a whole row as one block of BLOCK = the next power of two of
the row, and the wrapper raises when that block would pass 65536 instead of looping over
blocks: every row of more than 65536 classes (Llama 3's 128256, Qwen 2's 151936, Gemma 3's
262144) is refused. Rows up to 65536 are right.
Seen in: Liger-Kernel's softmax and cross-entropy kernels, "Cannot launch Triton kernel since
n = 131072 exceeds the recommended Triton blocksize = 65536" (linkedin/Liger-Kernel#1252,
the issue suite/sizes.py cites for its class menu).
Must be caught by: definition, whose widest pass runs one row of 262145 classes at every seed.
"""
from __future__ import annotations

import functools

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "torch", "device": "triton-interpret",
     "dtypes": ["float32"], "caught_by": ["definition"], "forward_only": True},
]

LIMIT = 65536


@functools.cache
def _kernel():
    import triton
    import triton.language as tl

    @triton.jit
    def row_softmax(x_ptr, out_ptr, n_cols, BLOCK: tl.constexpr):
        row = tl.program_id(0).to(tl.int64)
        cols = tl.arange(0, BLOCK)
        inside = cols < n_cols
        x = tl.load(x_ptr + row * n_cols + cols, mask=inside, other=-float("inf")).to(tl.float32)
        e = tl.exp(x - tl.max(x, axis=0))
        y = e / tl.sum(e, axis=0)
        tl.store(out_ptr + row * n_cols + cols, y.to(out_ptr.dtype.element_ty), mask=inside)

    return row_softmax


def softmax(x, axis=-1):
    import triton

    from implementations.triton_softmax import rowwise

    def launch(rows, out, n_rows, n_cols):
        block = triton.next_power_of_2(n_cols)
        if block > LIMIT:
            raise RuntimeError(f"Cannot launch Triton kernel since n = {block} exceeds the recommended Triton blocksize = {LIMIT}.")
        _kernel()[(n_rows,)](rows, out, n_cols, BLOCK=block)

    return rowwise(x, axis, False, launch)
