"""A softmax that accepts axis= but always normalises along the last axis.

What is wrong: the max and sum are hard-coded to axis=-1 (the common case in
every test the author wrote), so softmax(x, axis=0) on a (3, 5) array returns
five-way distributions along the rows instead of three-way distributions down
the columns. Shape and dtype are right and every entry lies in [0, 1], so only
a test with a non-last axis notices.
Seen in: ports of PyTorch's softmax(dim=1) calls to code whose helper was
written for the last axis; axis/dim mix-ups between channel-first and
channel-last layouts.
Must be caught by: axis_honoured, definition.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["axis_honoured", "definition"]},
]


def softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        a = np.max(x, axis=-1, keepdims=True)
        e = np.exp(x - np.where(np.isfinite(a), a, 0).astype(x.dtype))
        return (e / np.sum(e, axis=-1, keepdims=True)).astype(x.dtype)
