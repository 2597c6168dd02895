"""logsumexp and log_softmax without the max shift: log(sum(exp(x))).

What is wrong: exp(x) overflows to inf once x > log(r_max) (88.7 in float32,
11.1 in float16), so LSE([100, 0]) comes back inf instead of 100, and
log_softmax = x - LSE(x) becomes -inf (or NaN where x is inf too); for rows
below about -103 every exp underflows to 0 and LSE is -inf. The shift by
max(x) that fixes both is the whole point of the log-sum-exp trick.
Seen in: tensorflow/tensorflow#11692 and aesara-devs/aesara#461 (log(sum(exp))
graphs, before the rewrite to the shifted form), jax-ml/jax#985 (a log_softmax
suspected of lacking the shift), and hand-written loss functions everywhere.
Must be caught by: finite_outputs, definition, normwise_bound.
"""
import numpy as np

ZOO = [
    {"function": "logsumexp", "op": "logsumexp", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["finite_outputs", "definition", "normwise_bound"]},
    {"function": "log_softmax", "op": "log_softmax", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["finite_outputs", "definition", "normwise_bound"]},
]


def logsumexp(x, axis=-1):
    with np.errstate(all="ignore"):
        return np.asarray(np.log(np.sum(np.exp(x), axis=axis))).astype(x.dtype)


def log_softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        return (x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))).astype(x.dtype)
