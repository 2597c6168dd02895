"""A two-level softmax whose second level drops tiles, reached only past 131072 classes.

What is wrong: rows of up to 131072 classes (two tiles of 65536, a kernel's
largest tile pair) are reduced in one pass and are right. Wider rows are
reduced tile by tile, and the second level that combines the per-tile sums runs
over a grid of two: only the first two tiles' sums reach the denominator, so
every probability of a row of 262144 zeros is 1/131072 instead of 1/262144.
Every size an ordinary draw (at most 512 classes) reaches, and every
kernel-scale size up to 131072, is right; only the widest entries of the size
menu (151936, 262144, 262145) see the second level. Seen in:
linkedin/Liger-Kernel#1252 (a softmax whose multi-block path for rows past its
block size was never exercised, and raised for n = 131072), and the combine
steps of split-K softmax and flash-decoding kernels, reached only at the
longest rows.
Must be caught by: definition, at every seed (every certification runs the
widest class count of the menu, 262145 at ci: suite.sizes.widest_passes).
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32"], "caught_by": ["definition"]},
]

TILE = 65536
COMBINED = 2  # the second level's grid


def softmax(x, axis=-1):
    w = np.moveaxis(x, axis, -1)
    wide = w.astype(np.float32) if w.dtype.itemsize == 2 else w
    with np.errstate(all="ignore"):
        a = np.max(wide, axis=-1, keepdims=True)
        a = np.where(np.isfinite(a), a, 0)
        tiles = [np.sum(np.exp(wide[..., i : i + TILE] - a), axis=-1, keepdims=True) for i in range(0, wide.shape[-1], TILE)]
        total = sum(tiles[:COMBINED])  # the bug: the tiles past the grid's two are never combined
        out = np.exp(wide - a) / total
    return np.moveaxis(out.astype(x.dtype), -1, axis)
