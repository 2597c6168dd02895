"""A log_softmax for float16/bfloat16 that computes in float32 and forgets to cast back.

What is wrong: low-precision input is upcast to float32 for accuracy (the right
idea) but the float32 result is returned, so a float16 input gives a float32
output: the contract says the output keeps x's dtype, and a caller that stores
it into a float16 buffer, concatenates it with float16 tensors or compares
dtypes gets a silent promotion and twice the memory.
Seen in: mixed-precision helpers that return the accumulator dtype (the reason
torch.nn.functional.log_softmax has an explicit dtype= argument), and NumPy
code where x.astype(np.float32) is applied without the final .astype(x.dtype).
Must be caught by: output_contract.
"""
import numpy as np

ZOO = [
    {"function": "log_softmax", "op": "log_softmax", "backend": "numpy", "dtypes": ["float16"],
     "caught_by": ["output_contract"]},
]


def log_softmax(x, axis=-1):
    w = x.astype(np.float32) if x.dtype.itemsize == 2 else x
    with np.errstate(all="ignore"):
        a = np.max(w, axis=axis, keepdims=True)
        shifted = w - np.where(np.isfinite(a), a, 0).astype(w.dtype)
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
