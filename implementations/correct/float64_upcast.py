"""Every op computed in float64, shifted by the row maximum, and rounded once to the input dtype.

What it is: the "just do it in double" implementation: a = max(x) (0 where it
is not finite, so masked, +inf and NaN rows reach -inf, +inf and NaN without
meeting inf - inf), then exp(x - a), its sum S, and softmax = exp(x - a) / S,
log_softmax = (x - a) - log S, logsumexp = a + log S, cross-entropy =
(a - x_t) + log S, all in float64, with one rounding to the input dtype at the
end. For float16, bfloat16 and float32 this is more accurate than the shifted
algorithm in the working precision (float64's rounding errors are far below the
output dtype's unit roundoff); for float64 input it is exactly the shifted
algorithm.
What is wrong: nothing that breaks the contract. It uses log S, not log1p of the
sum without the maximum, so log_softmax at the argmax loses its digits once
sum_{j != k} exp(x_j - x_k) < 2**-53 (argmax_accuracy grades it "inaccurate",
a graded property), and float64 costs memory and speed on low-precision input.
Must be: certified for softmax, log_softmax, logsumexp and cross_entropy in
every dtype.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy"},
    {"function": "log_softmax", "op": "log_softmax", "backend": "numpy"},
    {"function": "logsumexp", "op": "logsumexp", "backend": "numpy"},
    {"function": "cross_entropy", "op": "cross_entropy", "backend": "numpy"},
]


def _shifted(x, axis):
    w = np.asarray(x).astype(np.float64)
    a = np.max(w, axis=axis, keepdims=True, initial=-np.inf)
    a = np.where(np.isfinite(a), a, 0.0)
    shifted = w - a
    total = np.sum(np.exp(shifted), axis=axis, keepdims=True)
    return w, a, shifted, total


def softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        _, _, shifted, total = _shifted(x, axis)
        return (np.exp(shifted) / total).astype(x.dtype)


def log_softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        _, _, shifted, total = _shifted(x, axis)
        return (shifted - np.log(total)).astype(x.dtype)


def logsumexp(x, axis=-1):
    with np.errstate(all="ignore"):
        _, a, _, total = _shifted(x, axis)
        return np.squeeze(a + np.log(total), axis=axis).astype(x.dtype)


def cross_entropy(logits, targets):
    with np.errstate(all="ignore"):
        w, a, _, total = _shifted(logits, -1)
        target_logit = np.take_along_axis(w, np.asarray(targets)[:, None], axis=-1)
        return ((a - target_logit) + np.log(total))[:, 0].astype(logits.dtype)
