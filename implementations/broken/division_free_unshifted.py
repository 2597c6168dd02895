"""The unshifted division-free softmax: exp(x - LSE(x)), with LSE(x) rounded first.

What is wrong: LSE(x) is computed stably (shift, log1p) but rounded to the
dtype before the subtraction, so its absolute error u |LSE(x)| becomes a
relative error of every probability. For float32 logits near 1e4 that is about
1e4 u (5e-4 relative): the computed row is a correct answer for slightly
different logits (backward stable, so the conditioning-aware invariants such as
``definition`` admit it), but it is far outside the shifted algorithm's error
bound, which does not grow with |x|. Seen in: softmax written as the gradient of
logsumexp, exp(x - logsumexp(x)), in autodiff-derived and hand-fused code; the
paper's sec. 4 shows this variant "can suffer from loss of accuracy".
Must be caught by: normwise_bound (float32, offset logits).
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["normwise_bound"]},
]


def _logsumexp(x, axis):
    a = np.max(x, axis=axis, keepdims=True)
    e = np.exp(x - a)
    k = np.expand_dims(np.argmax(x, axis=axis), axis)
    np.put_along_axis(e, k, 0, axis=axis)
    return a + np.log1p(np.sum(e, axis=axis, keepdims=True))


def softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        return np.exp(x - _logsumexp(x, axis)).astype(x.dtype)
