"""A categorical sampler that is not Gumbel-based: the exponential race.

What it is: with p_i = exp(x_i - max(x)) (unnormalised) and E_i ~ Exp(1) iid,
the sample is argmin_i E_i / p_i. E_i / p_i is exponential with rate p_i, so
this is the first of K independent exponential clocks to ring, and clock i
rings first with probability p_i / sum(p) = softmax(x)_i. It is Gumbel-max in
disguise (-log(E_i / p_i) = x_i - max + G_i) but computed without any log:
the form vLLM's sampler uses (probs / q.exponential_(), argmax). A masked
category has p_i = 0 and E_i / 0 = inf, so it never wins while any p_j > 0.
What is wrong: nothing. Ties E_i / p_i = E_j / p_j have probability 0 in
float64.
Must be: certified (every gumbel_max property; the suite tests the law and the
contract, not the algorithm).
"""
import numpy as np

ZOO = [
    {"function": "gumbel_max", "op": "gumbel_max"},
]


def gumbel_max(logits, num_samples, seed):
    x = np.asarray(logits).astype(np.float64)
    p = np.exp(x - np.max(x))
    e = np.random.default_rng(int(seed)).standard_exponential((int(num_samples), x.shape[-1]))
    with np.errstate(divide="ignore"):
        return np.argmin(e / p, axis=-1)
