"""A softmax with 1e-5 added to its denominator "for numerical safety".

What is wrong: exp(x - a) / (sum exp(x - a) + 1e-5). The sum is at least 1
after the shift, so the epsilon guards against nothing, and it biases every
probability by a relative 1e-5 / S: 168 ULPs of float32 when one entry
dominates, and the row no longer sums to 1. Seen in: hand-written attention and
"safe softmax" helpers (eps = 1e-5 to 1e-8 in the denominator), copied from
normalisation layers where an epsilon belongs.
Must be caught by: normwise_bound (float32 and float64).
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32", "float64"],
     "caught_by": ["normwise_bound"]},
]


def softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return (e / (np.sum(e, axis=axis, keepdims=True) + x.dtype.type(1e-5))).astype(x.dtype)
