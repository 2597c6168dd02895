"""A blockwise softmax whose multi-block reduction leaves out the partial last block.

What is wrong: rows of at most one block (1024 classes) take a single-block path
that is correct. Wider rows are reduced block by block, but the loop runs over
the K // 1024 full blocks only, so the K % 1024 classes past the last full block
are missing from both the maximum and the sum of exponentials (they are still
written, exp(x_i - a) / sum). For K = 1025 the last class is ignored; rows do not
sum to 1, and when the maximum sits in the tail its entry exceeds 1.
Seen in: verl-project/verl#2899 (a fused cross-entropy kernel that assumed the
vocabulary divisible by its block, wrong for 129920), linkedin/Liger-Kernel#1252
(a multi-block path for rows wider than one block that was never exercised),
and tiled reductions that compute the grid as K // BLOCK instead of
ceil(K / BLOCK). Invisible below 1025 classes: only kernel-scale sizes show it.
Must be caught by: sums_to_one, definition.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy",
     "dtypes": ["float32", "float64"], "caught_by": ["sums_to_one", "definition"]},
]

BLOCK = 1024


def softmax(x, axis=-1):
    w = np.moveaxis(x, axis, -1)
    wide = w.astype(np.float32) if w.dtype.itemsize == 2 else w
    k = wide.shape[-1]
    with np.errstate(all="ignore"):
        if k <= BLOCK:
            a = np.max(wide, axis=-1, keepdims=True)
            a = np.where(np.isfinite(a), a, 0)
            total = np.sum(np.exp(wide - a), axis=-1, keepdims=True)
        else:
            full = k // BLOCK  # the bug: ceil(k / BLOCK) blocks are needed
            a = np.max(wide[..., : full * BLOCK], axis=-1, keepdims=True)
            a = np.where(np.isfinite(a), a, 0)
            total = sum(np.sum(np.exp(wide[..., b * BLOCK : (b + 1) * BLOCK] - a), axis=-1, keepdims=True) for b in range(full))
        out = np.exp(wide - a) / total
    return np.moveaxis(out, -1, axis).astype(x.dtype)
