"""A categorical sampler that is not Gumbel-based: inverse-CDF sampling.

What it is: p = softmax(logits) in float64 (shifted by the maximum), the running
sum c_k = p_0 + ... + p_k, and for each sample u ~ U[0, 1) the index
searchsorted(c, u * c[-1], side="right"), i.e. the first k with c_k > u c_K
(numpy.random.Generator.choice and torch.multinomial work this way). Categories
of probability 0 have c_k = c_{k-1} and can never be returned.
What is wrong: nothing. Its samples have law softmax(logits) like Gumbel-max's,
with different draws for the same seed.
Must be: certified by gumbel_max_distribution (the suite tests the law, not
the algorithm).
"""
import numpy as np

ZOO = [
    {"function": "gumbel_max", "op": "gumbel_max"},
]


def gumbel_max(logits, num_samples, seed):
    x = np.asarray(logits).astype(np.float64)
    p = np.exp(x - np.max(x))
    c = np.cumsum(p)
    u = np.random.default_rng(int(seed)).random(int(num_samples))
    index = np.searchsorted(c, u * c[-1], side="right")
    return np.minimum(index, int(np.flatnonzero(p > 0)[-1]))
