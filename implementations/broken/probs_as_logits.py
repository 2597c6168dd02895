"""Gumbel samplers that perturb the probabilities softmax(logits) instead of the logits.

What is wrong: the Gumbel-max trick needs argmax(log p + G); this sampler adds
the noise to p = softmax(logits) itself, i.e. it samples from softmax(p), not
from p. Since p lies in [0, 1] the result is close to uniform: on the peaked
vector (p_max = 0.97) the mode is drawn with probability about 0.2 instead of
0.97. Flat logits are sampled exactly right, but a masked category (logit -inf,
p = 0) gets the noise alone and is drawn. Seen in: vithursant/VAE-Gumbel-Softmax#1
("we have to use log(logits) to perform gumbel max trick"), ericjang/gumbel-softmax#9
(logits_py should be the log of the probabilities), chaoshangcs/GTS#10
(gumbel_softmax fed a learned matrix that is not a logit).
Must be caught by: gumbel_max_distribution and gumbel_softmax_argmax_distribution
(and the contracts, which never allow a -inf category).
"""
import numpy as np

ZOO = [
    {
        "function": "gumbel_max",
        "op": "gumbel_max",
        "dtypes": ["float32"],
        "caught_by": ["gumbel_max_distribution", "gumbel_max_contract"],
    },
    {
        "function": "gumbel_softmax",
        "op": "gumbel_softmax",
        "dtypes": ["float32"],
        "caught_by": ["gumbel_softmax_argmax_distribution", "gumbel_softmax_contract"],
    },
]


def _probabilities(logits):
    x = np.asarray(logits).astype(np.float64)
    with np.errstate(invalid="ignore"):
        e = np.exp(x - np.max(x))
    return e / e.sum()


def gumbel_max(logits, num_samples, seed):
    p = _probabilities(logits)
    g = -np.log(np.random.default_rng(int(seed)).standard_exponential((int(num_samples), p.shape[-1])))
    return np.argmax(p + g, axis=-1)  # should be log(p) + g


def gumbel_softmax(logits, tau, num_samples, seed, hard=False):
    p = _probabilities(logits)
    g = -np.log(np.random.default_rng(int(seed)).standard_exponential((int(num_samples), p.shape[-1])))
    z = (p + g) / tau  # should be (log(p) + g) / tau
    y = np.exp(z - z.max(axis=-1, keepdims=True))
    y /= y.sum(axis=-1, keepdims=True)
    if hard:
        y = np.eye(p.shape[-1])[np.argmax(y, axis=-1)]
    return y.astype(logits.dtype)
