"""logsumexp as a streaming log-add-exp: np.logaddexp.reduce along the axis.

What it is: y_1 = x_1, y_k = logaddexp(y_{k-1}, x_k) = max + log1p(exp(-|y_{k-1}
- x_k|)), one pass, no separate maximum (the form of a running log-probability
accumulator, and of NumPy's own reduction). float16 and bfloat16 are reduced in
float32 and rounded once; float32 and float64 in their own precision. An empty
axis gives -inf (the log of an empty sum).
What is wrong: nothing that breaks the contract. Each step rounds at the
magnitude of the running value, so the error is up to (n - 1) u (|LSE| + 2)
where the shifted algorithm makes about (n + |LSE|) u: 10004.158883083357 for
10004.158883083359 on 64 entries of 10000 in float64 (1.43 ULP). Both are
backward stable (docs/error-analysis.md sec. 2.1).
Must be: certified for logsumexp in every dtype.
"""
import numpy as np

ZOO = [
    {"function": "logsumexp", "op": "logsumexp", "backend": "numpy"},
]


def logsumexp(x, axis=-1):
    w = x.astype(np.float32) if x.dtype.itemsize == 2 else x
    if w.shape[axis] == 0:
        return np.full(np.delete(np.array(w.shape), axis % w.ndim), -np.inf, dtype=x.dtype)
    with np.errstate(all="ignore"):
        return np.logaddexp.reduce(w, axis=axis).astype(x.dtype)
