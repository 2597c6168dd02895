"""The NumPy backend: arrays are NumPy's own, on the CPU, with no autodiff.

Libraries that are not torch or JAX (ONNX Runtime, TensorFlow, OpenVINO, ...) are
certified through it too: their adapters take and return NumPy arrays, so a column
certifies what a NumPy caller of the library gets.
"""
from __future__ import annotations

import numpy as np

from suite.backends import Backend, Conversions
from suite.layouts import NUMPY_LAYOUTS


def is_numpy_result(a) -> bool:
    """An array, or a NumPy scalar: what NumPy's own reductions (and ``Tensor.numpy()``) return
    for a 0-d result. Its dtype is checked like an array's; a Python float is not accepted."""
    return isinstance(a, (np.ndarray, np.generic))


def to_numpy(a) -> np.ndarray:
    if isinstance(a, np.generic):
        return np.asarray(a)
    if not isinstance(a, np.ndarray):
        raise TypeError(f"expected numpy.ndarray, got {type(a).__name__}")
    return a


def conversions(device: str) -> Conversions:
    return Conversions(
        from_numpy=lambda a: np.array(a, copy=True),
        to_numpy=to_numpy,
        is_native=is_numpy_result,
        native_type="numpy.ndarray (or a NumPy scalar for a 0-d result)",
        layouts=NUMPY_LAYOUTS,
    )


BACKEND = Backend(
    name="numpy",
    conversions=conversions,
    glue={"cpu": "implementations.numpy_reference"},
    baselines={"cpu": "numpy-reference"},
    temporaries=5,
)
