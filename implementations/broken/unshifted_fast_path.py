"""A softmax with a "fast path" that skips the max subtraction when every |x| < 128.

What is wrong: exp(x) / sum exp(x) without the shift is safe only while
exp(max x) stays finite, below log(r_max) = 88.72 in float32; the guard uses 128
(2^7) instead. Rows whose largest logit lies in [88.73, 128) overflow: inf / inf
= NaN. Every other magnitude is exact (below 88.72 the fast path is fine, above
128 the shifted path runs), so the defect sits in one band of one binade of the
logits' magnitudes.
Seen in: hand-tuned CPU kernels that branch on a magnitude threshold to save a
reduction; the classic overflow of the unshifted softmax (Blanchard, Higham &
Higham 2021, sec. 1) confined to a band by a wrong threshold.
Must be caught by: regime_binades.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32"], "caught_by": ["regime_binades"]},
]

FAST_PATH_LIMIT = 128.0  # should be log(r_max) = 88.72 for float32


def softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        top = np.max(np.where(np.isfinite(x), np.abs(x), 0), axis=axis, keepdims=True)
        a = np.max(x, axis=axis, keepdims=True)
        shift = np.where((top < FAST_PATH_LIMIT) | ~np.isfinite(a), 0, a).astype(x.dtype)
        e = np.exp(x - shift)
        return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)
