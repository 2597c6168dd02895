"""A softmax that multiplies by a rounded reciprocal of the sum, as PyTorch's CPU kernels do off the last axis.

What it is: e_j = exp(x_j - max(x)), S = sum_j e_j, r = 1 / S rounded, and
softmax_i = e_i * r: one division per row instead of one per entry. For
float16 and bfloat16 the exponentials and r are stored in the 16-bit dtype and
S is summed in float32 (PyTorch's vectorised softmax on a non-last dim,
aten/src/ATen/native/cpu/SoftMaxKernel.cpp, returns 0.059478759765625 for an
exact 0.05944247357677555 with this design, 1.19 ULP of float16); float32 and
float64 compute in their own precision.
What is wrong: nothing that breaks the contract. The rounded reciprocal adds
one rounding of r (h for a 16-bit r, u for the working precision) and one of
the product to every entry, the same factor for the whole row; the stored
exponentials add h each (docs/error-analysis.md sec. 2.6).
Must be: certified for softmax in every dtype.
"""
import numpy as np

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy"},
]


def softmax(x, axis=-1):
    sixteen = x.dtype.itemsize == 2
    w = x.astype(np.float32) if sixteen else x
    store = x.dtype if sixteen else w.dtype
    with np.errstate(all="ignore"):
        a = np.max(w, axis=axis, keepdims=True)
        a = np.where(np.isfinite(a), a, 0).astype(w.dtype)
        e = np.exp(w - a).astype(store).astype(w.dtype)
        total = np.sum(e, axis=axis, keepdims=True, dtype=w.dtype)
        r = (1 / total).astype(store).astype(w.dtype)  # the reciprocal, rounded to the output dtype
        return (e * r).astype(x.dtype)
