"""A softmax whose flat element index wraps, as a 32-bit index does past 2^31 elements (here at 2^16).

What is wrong: the kernel addresses element (row, j) through a flat index
row * K + j held in a narrow integer. Past 2^31 elements a signed 32-bit index
wraps; to show the same bug at a size a test can afford, the index here wraps
modulo 2^16: every element at flat position p >= 65536 is read from position
p mod 2^16, so the rows past the first 65536 elements are computed from the
wrong logits (and written where they belong). Arrays of up to 2^16 elements are
exact.
Seen in: CUDA and Triton kernels that compute row * stride or pid * BLOCK in
int32 and fail on tensors past 2^31 elements (the index-overflow class listed in
this suite's issue 15, next to the grid limit of NVIDIA/TensorRT#2021); the usual
fix is a 64-bit offset. The wrap is simulated at 2^16 so that it shows at the
sizes the ci profile draws.
Must be caught by: definition.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy",
     "dtypes": ["float32", "float64"], "caught_by": ["definition"]},
]

INDEX_MODULUS = 2**16


def softmax(x, axis=-1):
    w = np.moveaxis(x, axis, -1)
    flat = np.ascontiguousarray(w).reshape(-1)
    read = flat[np.arange(flat.size) % INDEX_MODULUS].reshape(w.shape)  # the bug: the index wraps
    wide = read.astype(np.float32) if read.dtype.itemsize == 2 else read
    with np.errstate(all="ignore"):
        a = np.max(wide, axis=-1, keepdims=True)
        a = np.where(np.isfinite(a), a, 0)
        e = np.exp(wide - a)
        out = e / np.sum(e, axis=-1, keepdims=True)
    return np.moveaxis(out, -1, axis).astype(x.dtype)
