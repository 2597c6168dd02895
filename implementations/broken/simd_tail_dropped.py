"""A logsumexp whose vectorised sum drops the tail when the row length is not a multiple of 8.

What is wrong: the sum of exp(x - a) runs over blocks of 8 lanes (here a reshape
to (..., K // 8, 8)), and the scalar remainder loop for the last K % 8 entries
is missing. For K = 9 the ninth class is ignored; for K < 8 the sum is empty, so
LSE = a + log(0) = -inf. The result depends on the order of the classes, and
when the maximum sits in the tail LSE drops below max(x).
Seen in: OpenNMT/CTranslate2#351 (the vectorised map-reduce behind its
LogSoftMax mishandled the remainder when the size is not a multiple of the
vector width), and SIMD/GPU reductions with a missing tail loop or an unmasked
last block, the reason kernel tests use sizes like 7, 9, 127 and 129.
Must be caught by: lse_bounds, permutation_equivariance, definition.
"""
import numpy as np

ZOO = [
    {"function": "logsumexp", "op": "logsumexp", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["lse_bounds", "permutation_equivariance", "definition"]},
]

LANES = 8


def logsumexp(x, axis=-1):
    with np.errstate(all="ignore"):
        w = np.moveaxis(x, axis, -1)
        a = np.max(w, axis=-1, keepdims=True)
        a = np.where(np.isfinite(a), a, 0).astype(x.dtype)
        e = np.exp(w - a)
        blocks = w.shape[-1] // LANES
        total = e[..., : blocks * LANES].reshape(w.shape[:-1] + (blocks, LANES)).sum(axis=(-2, -1))
        return np.asarray(a[..., 0] + np.log(total)).astype(x.dtype)
