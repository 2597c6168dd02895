"""A kernel that reads its input's buffer as if it were C-contiguous, whatever the strides.

What is wrong: like a C extension that takes ``data_ptr()`` and the shape and
walks the memory with the strides of a fresh C array, the kernel reads
element (i, j) at offset i * K + j from the first element's address. Every
fresh array is right, so every property that passes fresh arrays passes; but a
transposed view reads its base in memory order (the rows of x.T become the
rows of x), a Fortran-order array is read column by column, a view with step 2
reads the entries it should skip, and a broadcast or negatively strided view
reads past its buffer (here NaN; in C whatever lies there). The result is a
well-formed softmax (or loss) of the wrong numbers.
Seen in: pytorch/pytorch#2080 and the many C/CUDA extensions that read
data_ptr() of a non-contiguous tensor without .contiguous();
NVIDIA/TransformerEngine#2734 (cross-entropy kernel that only checks
stride(-1)); tracel-ai/burn#4815 (softmax of a transposed input computed on
the underlying storage).
Must be caught by: layouts (every other forward property passes fresh
contiguous arrays).
"""
import numpy as np

from implementations import numpy_reference

ZOO = [
    {"function": "softmax", "op": "softmax", "backend": "numpy", "dtypes": ["float32"], "caught_by": ["layouts"]},
    {"function": "cross_entropy", "op": "cross_entropy", "backend": "numpy", "dtypes": ["float32"], "caught_by": ["layouts"]},
]


def _owner(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


def _read_as_c_contiguous(x: np.ndarray) -> np.ndarray:
    """The entries at x's first address and the x.size following ones, in memory order, shaped like x."""
    if x.flags.c_contiguous:
        return x
    owner = _owner(x)
    memory = np.ravel(owner, order="K")  # the buffer in address order
    lowest = min(owner.__array_interface__["data"][0], memory.__array_interface__["data"][0])
    start = (x.__array_interface__["data"][0] - lowest) // x.itemsize
    read = np.full(x.size, np.nan, dtype=x.dtype) if x.dtype.kind == "f" else np.zeros(x.size, dtype=x.dtype)
    run = memory[start : start + x.size]
    read[: run.size] = run  # the bug: beyond the buffer, whatever memory holds (NaN here)
    return read.reshape(x.shape)


def softmax(x, axis=-1):
    return numpy_reference.softmax(_read_as_c_contiguous(x), axis=axis)


def cross_entropy(logits, targets):
    return numpy_reference.cross_entropy(_read_as_c_contiguous(logits), _read_as_c_contiguous(np.asarray(targets)))
