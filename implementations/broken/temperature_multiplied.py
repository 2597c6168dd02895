"""A temperature softmax that multiplies by the temperature: softmax(x * T).

What is wrong: the contract is softmax(x / T) (T -> 0 sharpens to the argmax,
T -> inf flattens to uniform); this one computes softmax(x * T), the
"inverse temperature" beta convention of physics and of some attention code,
with the argument still called temperature. At T = 1 the two agree, so a test at
the default passes; at T = 0.5 on x = [2, 0] it gives [0.73, 0.27] instead of
[0.98, 0.02], and both limits are swapped: T -> 0 gives uniform, T -> inf the
one-hot. Seen in: confusion of temperature with inverse temperature beta
(huggingface/transformers' TemperatureLogitsWarper divides; code that ports it
as a multiplication), and logit scales learned as "temperature" that multiply
(CLIP's logit_scale).
Must be caught by: temperature_zero_limit, temperature_infinite_limit,
temperature_gumbel_law (and definition).
"""
import numpy as np

ZOO = [
    {
        "function": "temperature_softmax",
        "op": "temperature_softmax",
        "dtypes": ["float64"],
        "caught_by": ["temperature_zero_limit", "temperature_infinite_limit", "temperature_gumbel_law", "definition"],
    },
]


def temperature_softmax(x, temperature, axis=-1):
    with np.errstate(all="ignore"):
        z = x * x.dtype.type(temperature)  # should be x / temperature
        e = np.exp(z - np.max(z, axis=axis, keepdims=True))
        return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)
