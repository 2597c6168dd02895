"""gumbel_softmax that clamps tau to at least 0.1, so tau -> 0 never reaches one-hot.

What is wrong: softmax((logits + G) / max(tau, 0.1)). The clamp keeps small
temperatures from "exploding" the backward pass (its gradient scales as 1/tau),
but it silently replaces every tau below 0.1: at tau = 1e-3 on the battery's six
logits the mean of 1 - max(y) is 0.048 instead of 0.0005, so an annealing
schedule that ends at tau = 0.01 trains against soft samples that never become
discrete. Every tau >= 0.1, the argmax law and hard samples are right.
Seen in: NVIDIA/TensorRT-LLM#15716 (small sampling temperatures clamped up to
1e-2, "a visibly different distribution"); ericjang/gumbel-softmax#2 (whether tau
near 0 breaks backpropagation, the worry such clamps answer).
Must be caught by: gumbel_softmax_low_temperature (tau = 1e-3; its Hoeffding
slack resolves a floor down to about tau = 0.06).
"""
import numpy as np

ZOO = [
    {
        "function": "gumbel_softmax",
        "op": "gumbel_softmax",
        "dtypes": ["float64"],
        "caught_by": ["gumbel_softmax_low_temperature"],
    },
]

_MIN_TAU = 0.1


def gumbel_softmax(logits, tau, num_samples, seed, hard=False):
    rng = np.random.default_rng(int(seed))
    x = np.asarray(logits).astype(np.float64)
    z = (x - np.log(rng.standard_exponential((int(num_samples), x.shape[-1])))) / max(tau, _MIN_TAU)
    with np.errstate(invalid="ignore"):
        y = np.exp(z - z.max(axis=-1, keepdims=True))
    y /= y.sum(axis=-1, keepdims=True)
    if hard:
        y = np.eye(x.shape[-1])[np.argmax(y, axis=-1)]
    return y.astype(logits.dtype)
