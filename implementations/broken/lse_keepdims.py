"""A logsumexp that keeps the reduced axis (keepdims=True left in from the shift).

What is wrong: the max is taken with keepdims=True so it broadcasts against x,
and the final result is returned without squeezing that axis: logsumexp of a
(4, 7) array along axis=-1 has shape (4, 1) instead of (4,). Broadcasting hides
it until the result meets an array of shape (4,) and silently becomes (4, 4).
Seen in: hand-written logsumexp helpers copied from softmax code (where
keepdims=True is right); scipy.special.logsumexp and torch.logsumexp take a
keepdims/keepdim argument precisely because both shapes are wanted.
Must be caught by: output_contract.
"""
import numpy as np

ZOO = [
    {"function": "logsumexp", "op": "logsumexp", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["output_contract"]},
]


def logsumexp(x, axis=-1):
    with np.errstate(all="ignore"):
        a = np.max(x, axis=axis, keepdims=True)
        a = np.where(np.isfinite(a), a, 0).astype(x.dtype)
        return (a + np.log(np.sum(np.exp(x - a), axis=axis, keepdims=True))).astype(x.dtype)
