"""The blog post's naive softmax: exp(x) / sum(exp(x)), with no max shift.

What is wrong: exp overflows to inf for logits above log(r_max) (88.7 in
float32), giving inf / inf = NaN; for very negative logits every exp underflows
to 0, giving 0 / 0 = NaN. Seen in: the seed blog post (logits [1000, 1, -1000]),
and in countless hand-written attention kernels.
Must be caught by: finite_outputs.
"""
import numpy as np


def softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        e = np.exp(x)
        return e / np.sum(e, axis=axis, keepdims=True)
