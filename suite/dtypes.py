"""Floating-point formats the suite certifies, by name.

NumPy has no bfloat16; ml_dtypes provides it (it is what JAX uses), so every
dtype is a real NumPy dtype and inputs round-trip exactly between backends.
"""
from __future__ import annotations

import ml_dtypes
import numpy as np

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")

_NUMPY = {
    "float16": np.dtype(np.float16),
    "bfloat16": np.dtype(ml_dtypes.bfloat16),
    "float32": np.dtype(np.float32),
    "float64": np.dtype(np.float64),
}


def numpy_dtype(name: str) -> np.dtype:
    return _NUMPY[name]


def dtype_name(dtype) -> str:
    """The suite's name for a NumPy dtype, or str(dtype) if it is not one of ours."""
    dtype = np.dtype(dtype)
    for name, candidate in _NUMPY.items():
        if candidate == dtype:
            return name
    return str(dtype)


def finfo(name: str):
    return ml_dtypes.finfo(_NUMPY[name])


def unit_roundoff(name: str) -> float:
    """u = 2**-p for a format with p significand bits (round to nearest)."""
    return float(finfo(name).eps) / 2.0


def significand_bits(name: str) -> int:
    return int(finfo(name).nmant) + 1


def largest(name: str) -> float:
    return float(finfo(name).max)


def smallest_subnormal(name: str) -> float:
    return float(finfo(name).smallest_subnormal)


def smallest_normal(name: str) -> float:
    return float(finfo(name).smallest_normal)


def log_largest(name: str) -> float:
    """log(r_max): the argument above which exp overflows in this format."""
    return float(np.log(largest(name)))


def overflow_threshold(name: str) -> np.longdouble:
    """The magnitude from which round-to-nearest gives inf: r_max + ulp(r_max) / 2.

    In long double, because for float64 it lies beyond float64's own range."""
    top = np.longdouble(largest(name))
    return top + np.longdouble(2.0) ** int(np.floor(np.log2(top)) - significand_bits(name))


def plain_number(value) -> str:
    """A number as Python writes it: 0.25, -inf, nan, 3 (never np.float32(0.25) or
    np.longdouble('3.40...e+38')); anything else as its repr. For failure messages and repros:
    a float64 holds every value of the dtypes under test exactly."""
    a = np.asarray(value)
    if a.ndim == 0 and a.dtype.kind in "iub":
        return repr(a.item())
    if a.ndim == 0 and a.dtype.kind in "fV":  # V: ml_dtypes' bfloat16
        return repr(float(a))
    return repr(value)
