"""Gumbel-max with exponential noise: argmax(logits + E), E ~ Exp(1), where G = -log(E) was meant.

What is wrong: the perturbation must be standard Gumbel noise, G = -log(E) or
-log(-log(U)); adding the exponential draw E itself (the "-log" forgotten, or
torch's exponential_() taken for the Gumbel sampler it feeds) gives a sampler
that still returns valid indices and favours the larger logits, but not with
probabilities softmax(logits): on flat logits it is even exactly uniform, so a
smoke test passes. Seen in: hand-rolled samplers that copy the first half of
F.gumbel_softmax's noise line (`torch.empty_like(x).exponential_()`) without the
`.log()` and the minus sign.
Must be caught by: gumbel_max_distribution (and, for gumbel_softmax below,
gumbel_softmax_argmax_distribution).
"""
import numpy as np

ZOO = [
    {"function": "gumbel_max", "op": "gumbel_max", "dtypes": ["float32"], "caught_by": ["gumbel_max_distribution"]},
    {
        "function": "gumbel_softmax",
        "op": "gumbel_softmax",
        "dtypes": ["float32"],
        "caught_by": ["gumbel_softmax_argmax_distribution"],
    },
]


def gumbel_max(logits, num_samples, seed):
    rng = np.random.default_rng(int(seed))
    x = np.asarray(logits, dtype=np.float64)
    return np.argmax(x + rng.standard_exponential((int(num_samples), x.shape[-1])), axis=-1)


def gumbel_softmax(logits, tau, num_samples, seed, hard=False):
    rng = np.random.default_rng(int(seed))
    x = np.asarray(logits).astype(np.float64)
    z = (x + rng.standard_exponential((int(num_samples), x.shape[-1]))) / tau
    with np.errstate(invalid="ignore"):
        y = np.exp(z - z.max(axis=-1, keepdims=True))
    y /= y.sum(axis=-1, keepdims=True)
    if hard:
        y = np.eye(x.shape[-1])[np.argmax(y, axis=-1)]
    return y.astype(logits.dtype)
