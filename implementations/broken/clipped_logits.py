"""A softmax that clips the logits to [-80, 80] instead of subtracting the row maximum.

What is wrong: clipping does keep exp finite in float32 (exp(80) = 5.5e34), but
it changes the problem: logits [100, 90] are clipped to [80, 80] and come back
[0.5, 0.5] instead of [0.99995, 0.0000454]. softmax is invariant under x -> x + c
and the clip is not, so shifting a row by 128 changes the answer completely.
Seen in: "numerically stable" softmax and policy-gradient code that clamps logits
(tf.clip_by_value / torch.clamp on logits) rather than shifting, and loss code
that clips to avoid overflow.
Must be caught by: shift_invariance, definition, normwise_bound.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["shift_invariance", "definition", "normwise_bound"]},
]

LIMIT = 80.0


def softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        e = np.exp(np.clip(x, -LIMIT, LIMIT))
        return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)
