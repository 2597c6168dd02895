"""A float32 softmax computed internally in float16 ("mixed precision" gone wrong).

What is wrong: the input is cast to float16, the shifted softmax is computed
there and the result cast back to float32. Every output carries float16's
relative error (u = 2**-11, i.e. 4096 float32 ULPs), and logits beyond 65504
become inf. Seen in: autocast regions that run softmax in half precision, and
kernels that store intermediate exponentials in half to save bandwidth.
Must be caught by: normwise_bound (float32 and float64).
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32", "float64"],
     "caught_by": ["normwise_bound"]},
]


def softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        h = x.astype(np.float16)
        e = np.exp(h - np.max(h, axis=axis, keepdims=True))
        return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)
