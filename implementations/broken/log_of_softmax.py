"""log_softmax computed as log(softmax(x)): the log of a stably shifted softmax.

What is wrong: the softmax is stable, but its small entries underflow before the
log is taken. For float32 x = [0, -200], softmax is [1, exp(-200) = 1.4e-87],
which rounds to [1, 0], and log gives [0, -inf] where the exact log-probability
is -200. Entries more than about 103 below the row maximum (float32; about 17
in float16) come back -inf, and those between 87 and 103 below it lose digits
in the subnormal range first.
Seen in: torch/nn#804 (SoftMax followed by log gives -inf where LogSoftMax
gives -13), tracel-ai/burn#315 (log_softmax returning -inf for logits spread by a
few hundred), pytorch/pytorch#725 (LogSoftmax giving -inf), and every tutorial
that warns "use log_softmax, not log(softmax)".
Must be caught by: finite_outputs, definition, normwise_bound.
"""
import numpy as np

ZOO = [
    {"function": "log_softmax", "op": "log_softmax", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["finite_outputs", "definition", "normwise_bound"]},
]


def log_softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        e = np.exp(x - np.max(x, axis=axis, keepdims=True))
        return np.log(e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)
