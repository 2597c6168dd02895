"""A softmax that subtracts the maximum of the whole batch instead of each row's.

What is wrong: np.max(x) without axis= is the maximum over every row, so a row
whose logits all lie more than ~87 (float32) below the batch maximum has every
exp(x - a) underflow to 0, and 0 / 0 = NaN. With rows [0, 1] and [1000, 1001]
the first row becomes [NaN, NaN]; a row's result depends on its neighbours.
Seen in: uTensor/uTensor#171 (a softmax reducing over the whole tensor rather
than along one axis), FluxML/NNlib.jl#43 (a shift that was not the row's own
maximum), the seed blog post's list of mistakes, and ports of 1-D softmax code
(x - x.max()) to batched inputs.
Must be caught by: batch_independence, finite_outputs.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["batch_independence", "finite_outputs"]},
]


def softmax(x, axis=-1):
    with np.errstate(all="ignore"):
        e = np.exp(x - np.max(x))
        return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)
