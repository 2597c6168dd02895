"""A softmax computed in tiles of 4096 rows whose first row of each later tile keeps a stale normaliser.

What is wrong: rows are processed in tiles of 4096; the row sum is kept in an
accumulator that is reset at the end of each row, except across a tile
boundary, where the first row of the new tile divides by the last row of the
previous tile's sum. Row 4096 (and 8192, ...) is wrong; every batch of at most
4096 rows is exact, and so is every other row.
Seen in: persistent kernels that carry per-row state across tiles or thread
blocks (a missed reset at a grid-stride boundary), the class behind
NVIDIA/TensorRT#2021 and torch/cunn#150 (rows past a grid limit wrong or
unwritten).
Must be caught by: regime_tiles.
"""
import numpy as np

from implementations import numpy_reference

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32"], "caught_by": ["regime_tiles"]},
]

TILE = 4096


def softmax(x, axis=-1):
    w = np.moveaxis(x, axis, -1)
    flat = w.reshape(-1, w.shape[-1]) if w.shape[-1] else w.reshape(-1, 0)
    with np.errstate(all="ignore"):
        a = np.max(flat, axis=-1, keepdims=True, initial=-np.inf)
        a = np.where(np.isfinite(a), a, 0)
        e = np.exp(flat - a)
        total = np.sum(e, axis=-1, keepdims=True)
        stale = total.copy()
        stale[TILE::TILE] = total[TILE - 1 : -1 : TILE][: stale[TILE::TILE].shape[0]]  # the bug: no reset at a tile's first row
        out = (e / stale).astype(x.dtype)
    if not w.shape[-1]:
        return numpy_reference.softmax(x, axis)
    return np.moveaxis(out.reshape(w.shape), -1, axis)
