"""A logsumexp whose sum of exponentials is accumulated in float16.

What is wrong: a + log(sum(exp(x - a))) with the exponentials cast to float16
before the sum (to halve memory traffic), so the sum carries a relative error of
up to n 2**-11 and LSE an absolute one: thousands of float32 ULPs. Seen in:
reduced-precision reductions in fused kernels and in early mixed-precision
training code (the reason frameworks now accumulate in float32).
Must be caught by: normwise_bound (float32 and float64).
"""
import numpy as np

ZOO = [
    {"function": "logsumexp", "op": "logsumexp", "backend": "numpy", "dtypes": ["float32", "float64"],
     "caught_by": ["normwise_bound"]},
]


def logsumexp(x, axis=-1):
    with np.errstate(all="ignore"):
        a = np.max(x, axis=axis, keepdims=True)
        a = np.where(np.isfinite(a), a, 0)
        e = np.exp(x - a).astype(np.float16)
        total = np.sum(e, axis=axis, keepdims=True, dtype=np.float16)
        return np.squeeze(a + np.log(total.astype(x.dtype)), axis=axis).astype(x.dtype)
