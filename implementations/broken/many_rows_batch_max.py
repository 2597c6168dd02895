"""A softmax with a fast path for large batches that shifts by the maximum of the whole batch.

What is wrong: from 4096 rows on, a "batched" path subtracts one maximum, taken
over every row, instead of each row's own maximum (one reduction instead of one
per row). Mathematically the shift cancels, but a row whose logits lie far below
the batch maximum has every exp(x - a) underflow to 0 and becomes 0 / 0 = NaN;
a row's result depends on its neighbours. Below 4096 rows the per-row path is
correct, so small batches never show it.
Seen in: uTensor/uTensor#171 and FluxML/NNlib.jl#43 (a shift that is not the
row's own maximum), and size-dispatched kernels whose large-batch variant is
tested less than the default one (pytorch/pytorch#147284 is a size-dependent
softmax bug of the same family).
Must be caught by: definition (a row far below the batch maximum comes back NaN;
batch_independence compares the row with itself in a batch of the same size, where both runs
take the fast path, and NaN meets NaN).
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy",
     "dtypes": ["float32", "float64"], "caught_by": ["definition"]},
]

FAST_PATH_ROWS = 4096


def softmax(x, axis=-1):
    w = np.moveaxis(x, axis, -1)
    wide = w.astype(np.float32) if w.dtype.itemsize == 2 else w
    rows = wide.size // max(wide.shape[-1], 1)
    with np.errstate(all="ignore"):
        if rows >= FAST_PATH_ROWS:
            a = np.max(wide)  # the bug: the batch's maximum, not each row's
            a = a if np.isfinite(a) else 0
        else:
            a = np.max(wide, axis=-1, keepdims=True)
            a = np.where(np.isfinite(a), a, 0)
        e = np.exp(wide - a)
        out = e / np.sum(e, axis=-1, keepdims=True)
    return np.moveaxis(out, -1, axis).astype(x.dtype)
