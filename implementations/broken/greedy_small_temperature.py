"""A temperature softmax that returns the one-hot argmax for every temperature below 0.01.

What is wrong: below T = 0.01 the kernel switches to a "greedy" path, on the
reasoning that softmax(x / T) is then one-hot anyway. It is, when the logits
differ by much more than T; when they differ by about T (close logits, as a
tuned or quantised model gives them), softmax(x / T) spreads over several
classes at any T, and the greedy path returns one class with probability 1.
Random logits with gaps of order 1 at T = 1e-3 are one-hot to within the bound,
so only close logits show it.
Seen in: samplers that special-case small temperatures as argmax
(NVIDIA/TensorRT-LLM#15716 clamped them instead; google-deepmind/gemma#562
branches to argmax at T = 0, which is right only at 0).
Must be caught by: regime_temperatures.
"""
import numpy as np

from implementations import numpy_reference

ZOO = [
    {"function": "temperature_softmax", "op": "temperature_softmax", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["regime_temperatures"]},
]

GREEDY_BELOW = 0.01


def temperature_softmax(x, temperature, axis=-1):
    if temperature >= GREEDY_BELOW or x.shape[axis] == 0:
        return numpy_reference.temperature_softmax(x, temperature, axis)
    w = np.moveaxis(x, axis, -1)
    out = np.zeros_like(w)
    np.put_along_axis(out, np.argmax(w, axis=-1)[..., None], 1, axis=-1)  # the bug: one-hot however close the logits
    return np.moveaxis(out, -1, axis)
