"""gumbel_softmax whose hard sample is the one-hot of argmax(logits), not of the noisy sample.

What is wrong: with hard=True the one-hot must be at the argmax of the soft
sample softmax((logits + G) / tau) it replaces in the forward pass. This one
takes the argmax of the noiseless logits, so every hard sample is the mode: the
hard samples are not random at all, and the straight-through gradient is that of
a soft sample that disagrees with the forward value. Soft samples are right.
Seen in: hand-written straight-through layers that compute
`one_hot(logits.argmax(-1))` next to the noisy soft sample
(chaoshangcs/GTS#10 and vithursant/VAE-Gumbel-Softmax#1 discuss which tensor the
Gumbel-max argmax must be taken of; ericjang/gumbel-softmax#9).
Must be caught by: gumbel_softmax_contract (hard rows one-hot at the soft
sample's argmax).
"""
import numpy as np

ZOO = [
    {"function": "gumbel_softmax", "op": "gumbel_softmax", "dtypes": ["float32"], "caught_by": ["gumbel_softmax_contract"]},
]


def gumbel_softmax(logits, tau, num_samples, seed, hard=False):
    rng = np.random.default_rng(int(seed))
    x = np.asarray(logits).astype(np.float64)
    z = (x - np.log(rng.standard_exponential((int(num_samples), x.shape[-1])))) / tau
    with np.errstate(invalid="ignore"):
        y = np.exp(z - z.max(axis=-1, keepdims=True))
    y /= y.sum(axis=-1, keepdims=True)
    if hard:
        y = np.eye(x.shape[-1])[np.broadcast_to(np.argmax(x), y.shape[:1])]  # should be argmax(y, axis=-1)
    return y.astype(logits.dtype)
