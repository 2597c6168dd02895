"""Gumbel-max that draws one noise vector and reuses it for every sample.

What is wrong: G (shape (K,)) is drawn once per call and broadcast against all
num_samples rows, instead of drawing (num_samples, K) independent values. Each
single sample is distributed as softmax(logits), so a test that draws one sample
per seed passes; but the num_samples samples of one call are all the same
category. Seen in: broadcasting slips such as `noise = rng.gumbel(size=logits.shape)`
followed by `argmax(logits + noise)` inside a loop meant to draw fresh noise, or
a batched sampler whose noise shape is the logits' shape, not the batch's.
Must be caught by: gumbel_max_distribution (and gumbel_max_seeded: two seeds
whose single noise vectors pick the same category give identical samples).
"""
import numpy as np

ZOO = [
    {"function": "gumbel_max", "op": "gumbel_max", "dtypes": ["float64"], "caught_by": ["gumbel_max_distribution", "gumbel_max_seeded"]},
]


def gumbel_max(logits, num_samples, seed):
    rng = np.random.default_rng(int(seed))
    x = np.asarray(logits, dtype=np.float64)
    noise = rng.gumbel(size=x.shape)  # one vector, shared by every sample
    return np.broadcast_to(np.argmax(x + noise, axis=-1), (int(num_samples),)).copy()
