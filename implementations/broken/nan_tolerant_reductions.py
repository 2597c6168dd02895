"""A softmax whose max and sum skip NaN (np.fmax / np.nansum), so a NaN stays in its own entry.

What is wrong: the row maximum is taken with fmax semantics (NaN loses to any
number, as in C's fmaxf, f32::max in Rust, or np.nanmax) and the denominator
with nansum. A row [1, NaN, 2] gives [0.27, NaN, 0.73]: the NaN entry is NaN,
but the others look like a valid distribution over the remaining classes, so
the poisoned row is silently used downstream instead of being NaN throughout.
Seen in: ohdearquant/lattice#740 (a CPU attention softmax folding the max with
f32::max silently drops a NaN lane), tenstorrent/tt-metal#56056 (finite outputs
for NaN rows), and NaN-"robust" reductions chosen to skip padding.
Must be caught by: nan_propagation.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["nan_propagation"]},
]


def softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        a = np.fmax.reduce(x, axis=axis, keepdims=True)
        a = np.where(np.isfinite(a), a, 0).astype(x.dtype)
        e = np.exp(x - a)
        return (e / np.nansum(e, axis=axis, keepdims=True)).astype(x.dtype)
