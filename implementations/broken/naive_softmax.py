"""The blog post's naive softmax: exp(x) / sum(exp(x)), with no max shift.

What is wrong: exp overflows to inf for logits above log(r_max) (88.7 in
float32), giving inf / inf = NaN; for very negative logits every exp underflows
to 0, giving 0 / 0 = NaN. Seen in: the seed blog post (logits [1000, 1, -1000]),
and in countless hand-written attention kernels.
Must be caught by: finite_outputs.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["finite_outputs", "definition", "in_unit_interval", "sums_to_one", "shift_invariance",
                   "masked_entries", "nan_propagation", "normwise_bound"]},
]


def softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        e = np.exp(x)
        return e / np.sum(e, axis=axis, keepdims=True)
