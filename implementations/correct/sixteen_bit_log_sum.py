"""16-bit log-domain ops whose elementwise intermediates are stored in 16 bits, as XLA computes them on the CPU.

What it is: for float16 and bfloat16, a = max(x), the shift z_j = x_j - a, the
exponentials exp(z_j), their sum S (accumulated in float32) and L = log S are
each computed in float32 and stored in the input's 16-bit dtype. Then
logsumexp = a + L, log_softmax_i = z_i - L and cross_entropy = -z_t + L, each
rounded once to the output. jax.nn.logsumexp on float16 works this way and
returns -0.0168914794921875 for an exact -0.017354407574185576 (the row
[-0.01982117, -6.0234375]): S = 1.00247 held in float16, whose spacing at 1 is
2**-10, is off by 4.6e-4, which log passes on as an absolute error in L of the
same size, 30 ULP of the near-zero output; so does this file. A float16 S
overflows past 65504 (jax.nn.logsumexp of 70000 float16 zeros is inf): here S
stays in float32 where it would not fit the 16-bit dtype.
What is wrong: nothing that breaks the contract. Each stored intermediate is
off by half an ULP of its own magnitude: h g_j in the shift, h in each
exponential and in S (h of log S each), h L in log S (docs/error-analysis.md
sec. 2.6); the float32 sum keeps the error from growing with the row length.
Must be: certified for logsumexp, log_softmax and cross_entropy in float16 and bfloat16.
"""
import numpy as np

ZOO = [
    {"function": "logsumexp", "op": "logsumexp", "backend": "numpy", "dtypes": ["float16", "bfloat16"]},
    {"function": "log_softmax", "op": "log_softmax", "backend": "numpy", "dtypes": ["float16", "bfloat16"]},
    {"function": "cross_entropy", "op": "cross_entropy", "backend": "numpy", "dtypes": ["float16", "bfloat16"]},
]


def _stored(v, dtype):
    return v.astype(dtype).astype(np.float32)


def _stored_if_finite(v, dtype):
    """v stored in the 16-bit dtype, or kept in float32 where it is past that dtype's range."""
    return np.where(np.abs(v) <= float(np.finfo(dtype).max), _stored(v, dtype), v)


def _parts(x, axis):
    """(a, z, L, top): the shift (the maximum where finite, else 0), the stored x - a, the stored
    log of the stored S, and the maximum itself (for rows whose maximum is not finite)."""
    w = x.astype(np.float32)
    top = np.max(w, axis=axis, keepdims=True)
    a = np.where(np.isfinite(top), top, 0).astype(np.float32)
    z = _stored(w - a, x.dtype)
    total = _stored_if_finite(np.sum(_stored(np.exp(z), x.dtype), axis=axis, keepdims=True, dtype=np.float32), x.dtype)
    return a, z, _stored(np.log(total), x.dtype), top


def logsumexp(x, axis=-1):
    with np.errstate(all="ignore"):
        a, _, log_sum, top = _parts(x, axis)
        out = np.where(np.isfinite(top), a + log_sum, top)  # an all -inf row: -inf; a +inf: +inf
        return np.squeeze(out, axis=axis).astype(x.dtype)


def log_softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        _, z, log_sum, _ = _parts(x, axis)
        return (z - log_sum).astype(x.dtype)


def cross_entropy(logits, targets):
    with np.errstate(all="ignore"):
        a, z, log_sum, top = _parts(logits, -1)
        picked = np.take_along_axis(z, np.asarray(targets, dtype=np.int64)[:, None], axis=-1)
        out = np.where(np.isfinite(top), -picked + log_sum, top - picked)
        return out[:, 0].astype(logits.dtype)
