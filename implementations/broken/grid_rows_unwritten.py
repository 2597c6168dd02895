"""A softmax launched with one block per row on a grid of at most 65535 blocks: later rows are never written.

What is wrong: the kernel maps row r to block r of a one-dimensional grid limited
to 65535 blocks (the CUDA limit of a grid's y and z dimensions, and of x on old
devices) and never loops over the rows past it. Rows 65535 and later keep what
the output buffer held, here zeros (np.empty would leave garbage). Every row is
right for up to 65535 rows: only a batch of 65536 rows or more shows it.
Seen in: NVIDIA/TensorRT#2021 (softmax failing from 65536 rows), torch/cunn#150
(SoftMax limited to 65535 rows by the grid size), and kernels that launch
grid = (rows,) without a grid-stride loop.
Must be caught by: sums_to_one, definition.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy",
     "dtypes": ["float32", "float64"], "caught_by": ["sums_to_one", "definition"]},
]

GRID_LIMIT = 65535


def softmax(x, axis=-1):
    w = np.moveaxis(x, axis, -1)
    rows = w.reshape(-1, w.shape[-1]).astype(np.float32 if w.dtype.itemsize == 2 else w.dtype)
    out = np.zeros_like(rows)
    launched = rows[:GRID_LIMIT]  # the bug: no loop over the rows past the grid
    with np.errstate(all="ignore"):
        a = np.max(launched, axis=-1, keepdims=True)
        a = np.where(np.isfinite(a), a, 0)
        e = np.exp(launched - a)
        out[:GRID_LIMIT] = e / np.sum(e, axis=-1, keepdims=True)
    return np.moveaxis(out.reshape(w.shape), -1, axis).astype(x.dtype)
