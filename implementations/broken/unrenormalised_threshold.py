"""A softmax that zeroes probabilities below 1e-3 (to sparsify them) and does not renormalise.

What is wrong: after p = softmax(x), entries below 1e-3 are set to 0 so the
result can be stored sparsely, but the row is not divided by its new sum. A
row of 4096 similar logits, where every probability is about 2.4e-4, comes back
all zeros; a peaked row loses a few per cent of its mass. The output is no
longer a probability vector.
Seen in: sparse/thresholded attention and top-k or min-p filtering code where
the renormalising division was forgotten (or done before the filter), a
recurring bug in sampling pipelines.
Must be caught by: sums_to_one, definition.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["sums_to_one", "definition"]},
]

THRESHOLD = 1e-3


def softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        a = np.max(x, axis=axis, keepdims=True)
        e = np.exp(x - np.where(np.isfinite(a), a, 0).astype(x.dtype))
        p = e / np.sum(e, axis=axis, keepdims=True)
        return np.where(p < THRESHOLD, 0, p).astype(x.dtype)
