"""A log_softmax built on log(1 + s) where log1p(s) is needed.

What is wrong: with k the argmax and s = sum_{j != k} exp(x_j - x_k), it
returns (x - a) - log(1 + s). Once s < u, 1 + s rounds to 1 and the argmax
entry, exactly -log1p(s) ~ -s, comes back as 0: every digit lost. Elsewhere it
is fine, and its absolute error stays within the normwise bound, so it is
certified but graded. Seen in: textbook LSE-with-max-excluded code that forgets
log1p (the paper's Algorithm with log1p exists because of it).
Must be caught by: argmax_accuracy (graded "inaccurate at the argmax").
"""
import numpy as np

ZOO = [
    {"function": "log_softmax", "op": "log_softmax", "backend": "numpy", "dtypes": ["float32", "float64"],
     "caught_by": ["argmax_accuracy"], "policy": "strict"},
]


def log_softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        a = np.max(x, axis=axis, keepdims=True)
        shifted = x - a
        e = np.exp(shifted)
        k = np.expand_dims(np.argmax(x, axis=axis), axis)
        others = e.copy()
        np.put_along_axis(others, k, 0, axis=axis)
        s = np.sum(others, axis=axis, keepdims=True)
        return (shifted - np.log(1 + s)).astype(x.dtype)
