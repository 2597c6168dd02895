"""Gumbel samplers that ignore their seed and draw from NumPy's global random state.

What is wrong: the seed argument is accepted and never used; the noise comes
from np.random.gumbel, the legacy global generator. Every sample is correctly
distributed, so every distribution test passes, but two calls with the same
seed give different samples (and, if some caller sets np.random.seed, two
different seeds give the same ones): an experiment cannot be reproduced, and a
straight-through hard sample cannot be matched to the soft sample it came from.
Seen in: glm-tools/pyglmnet#269 ("GLM parameter random_state ignored": the
RandomState was created and never used), stanfordmlgroup/ngboost#22 (results
not reproducible after np.random.seed), vllm-project/vllm#54143 (a seeded
Gumbel sampler must depend only on the seed, not on global generator state).
Must be caught by: gumbel_max_seeded and gumbel_softmax_seeded (and
gumbel_softmax_contract: the hard sample of a seed is not one-hot at the argmax
of that seed's soft sample).
"""
import numpy as np

ZOO = [
    {"function": "gumbel_max", "op": "gumbel_max", "dtypes": ["float64"], "caught_by": ["gumbel_max_seeded"]},
    {
        "function": "gumbel_softmax",
        "op": "gumbel_softmax",
        "dtypes": ["float64"],
        "caught_by": ["gumbel_softmax_seeded", "gumbel_softmax_contract"],
    },
]


def gumbel_max(logits, num_samples, seed):
    x = np.asarray(logits, dtype=np.float64)
    noise = np.random.gumbel(size=(int(num_samples), x.shape[-1]))  # seed unused
    return np.argmax(x + noise, axis=-1)


def gumbel_softmax(logits, tau, num_samples, seed, hard=False):
    x = np.asarray(logits).astype(np.float64)
    z = (x + np.random.gumbel(size=(int(num_samples), x.shape[-1]))) / tau  # seed unused
    with np.errstate(invalid="ignore"):
        y = np.exp(z - z.max(axis=-1, keepdims=True))
    y /= y.sum(axis=-1, keepdims=True)
    if hard:
        y = np.eye(x.shape[-1])[np.argmax(y, axis=-1)]
    return y.astype(logits.dtype)
