"""A softmax that shifts its input in place (x -= max(x)) to save a temporary.

What is wrong: the augmented assignment writes into the caller's array, so after
softmax(x) the caller's logits are x - max(x): the row maximum is now 0. The
returned probabilities are right, which is why this survives testing, but a
second call on the same array, a logsumexp computed afterwards, or a gradient
that reads x all see the shifted values.
Seen in: "in-place" softmax kernels that reuse their input buffer
(deeplearning4j/nd4j#2045 and deeplearning4j/libnd4j#433, "softmax doesn't
assume strict inplace anymore"), and NumPy code using x -= ... where
x = x - ... was meant.
Must be caught by: input_unmodified.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["input_unmodified"]},
]


def softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        a = np.max(x, axis=axis, keepdims=True)
        x -= np.where(np.isfinite(a), a, 0).astype(x.dtype)
        e = np.exp(x)
        return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)
