"""Gumbel-softmax that divides the logits by tau but not the noise: softmax(x / tau + G).

What is wrong: the relaxed sample is softmax((x + G) / tau); written as
softmax(x / tau + G) the temperature sharpens the logits while the noise keeps
its scale, so the argmax of a sample follows softmax(x / tau), not softmax(x).
At tau = 1 the two agree exactly and at tau -> 0 both become one-hot, so a test
at those two temperatures alone passes it. At tau = 1/2, logits [1, 0] give the
first category 0.881 of the argmaxes instead of 0.731. Seen in: code that reuses a sampling path which first divides the logits
by a temperature and then adds Gumbel noise, and in mis-parenthesised
transcriptions of the Gumbel-softmax formula (log(pi) + g) / tau; found while
building this zoo, when the argmax battery still ran at tau = 1 only and
certified it.
Must be caught by: gumbel_softmax_argmax_distribution (run at tau = 1/2 for this reason).
"""
import numpy as np

ZOO = [
    {"function": "gumbel_softmax", "op": "gumbel_softmax", "backend": "numpy", "dtypes": ["float64"],
     "caught_by": ["gumbel_softmax_argmax_distribution"]},
]


def gumbel_softmax(logits, tau, num_samples, seed, hard=False):
    rng = np.random.default_rng(int(seed))
    x = np.asarray(logits).astype(np.float64)
    z = x / tau - np.log(rng.standard_exponential((int(num_samples), x.shape[-1])))  # should be (x + G) / tau
    with np.errstate(invalid="ignore"):
        y = np.exp(z - z.max(axis=-1, keepdims=True))
    y /= y.sum(axis=-1, keepdims=True)
    if hard:
        y = np.eye(x.shape[-1])[np.argmax(y, axis=-1)]
    return y.astype(np.asarray(logits).dtype)
