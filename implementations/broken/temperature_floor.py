"""A temperature softmax that clamps the temperature to at least 0.1 "for stability".

What is wrong: softmax(x / max(T, 0.1)). The clamp is meant to avoid a
division by zero at T = 0 (greedy decoding), but it changes every answer below
0.1: at T = 1/21 the runner-up of a row with gap 1 gets exp(-10) = 4.5e-5
instead of exp(-21) = 7.6e-10, so the T -> 0 limit is never reached (the
correct way to support T = 0 is to special-case it as argmax). Above 0.1 the
output is exact. Seen in: NVIDIA/TensorRT-LLM#15716 (a clamp of small
non-zero temperatures up to 1e-2, which review pointed out "silently changes
valid requests": T = 5e-3 would be sampled as 1e-2); google-deepmind/gemma#562
(temperature 0 divides by zero; the fix branches to argmax).
Must be caught by: temperature_zero_limit (and definition, where a drawn
temperature is below 0.1).
"""
import numpy as np

ZOO = [
    {
        "function": "temperature_softmax",
        "op": "temperature_softmax",
        "dtypes": ["float32"],
        "caught_by": ["temperature_zero_limit"],
    },
]

_MIN_TEMPERATURE = 0.1


def temperature_softmax(x, temperature, axis=-1):
    with np.errstate(all="ignore"):
        z = x / x.dtype.type(max(temperature, _MIN_TEMPERATURE))  # should divide by temperature itself
        e = np.exp(z - np.max(z, axis=axis, keepdims=True))
        return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)
