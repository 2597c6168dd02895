"""Memory layouts: native arrays that hold given values in a given layout.

A kernel that reads ``data_ptr()`` of its input as if it were C-contiguous, or
indexes a row as ``row_start + j``, is right on every fresh array and wrong on a
transposed or sliced view. So an adapter with strided native arrays lists the
layouts its backend can express (``Adapter.layouts``), each a :class:`Layout`
whose ``build(values)`` returns a fresh native array equal to ``values`` but
laid out differently in memory. The property ``layouts``
(suite/properties/layouts.py) runs the op on each.

NumPy arrays (the numpy-based adapters and third-party NumPy targets) get C
order, Fortran order, a transposed view, a view with step 2, a view with
negative strides, a broadcast view (zero stride) and a read-only array. torch
tensors get a contiguous tensor, a transposed view, a view with step 2, an
expanded view (zero stride) and, for 4-D tensors, channels_last; torch has no
negative strides and no read-only tensors. JAX arrays expose no strides at all,
so the JAX adapter lists none and the property is skipped there.

Entries a view skips over are NaN, so a kernel that reads them gives NaN.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class Layout:
    name: str
    build: Callable[[np.ndarray], Any]  # values -> a fresh native array with these values, in this layout
    ndims: tuple[int, ...] | None = None  # the ranks it applies to (None: every rank)
    # True: a zero stride along axis 0; the values must be equal along axis 0.
    broadcast: bool = False

    def applies(self, values: np.ndarray) -> bool:
        return self.ndims is None or values.ndim in self.ndims


def _reversed_axes(a: np.ndarray) -> tuple[slice, ...]:
    return (slice(None, None, -1),) * a.ndim


def _step2_base(a: np.ndarray) -> tuple[np.ndarray, tuple[slice, ...]]:
    """A NaN-filled base twice as long along every axis, holding ``a`` at the even indices."""
    base = np.full(tuple(2 * n for n in a.shape), np.nan, dtype=a.dtype) if a.dtype.kind == "f" else np.zeros(tuple(2 * n for n in a.shape), dtype=a.dtype)
    index = (slice(None, None, 2),) * a.ndim
    base[index] = a
    return base, index


def first_along_axis0(a: np.ndarray) -> np.ndarray:
    """A fresh copy of a[:1]; checks that ``a`` is a[:1] repeated, as a broadcast view needs."""
    head = np.array(a[:1], copy=True)
    if not np.array_equal(np.broadcast_to(head, a.shape), a, equal_nan=True):
        raise ValueError("a broadcast layout needs values equal along axis 0")
    return head


def _numpy_step2(a: np.ndarray) -> np.ndarray:
    base, index = _step2_base(a)
    return base[index]


def _numpy_read_only(a: np.ndarray) -> np.ndarray:
    copy = np.array(a, order="C", copy=True)
    copy.flags.writeable = False
    return copy


NUMPY_LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        Layout("C order", lambda a: np.array(a, order="C", copy=True)),
        Layout("Fortran order", lambda a: np.array(a, order="F", copy=True)),
        # every axis reversed in memory: the class axis has the largest stride
        Layout("transposed view", lambda a: np.ascontiguousarray(a.T).T),
        Layout("sliced view (step 2)", _numpy_step2),
        Layout("negative strides", lambda a: np.ascontiguousarray(a[_reversed_axes(a)])[_reversed_axes(a)]),
        Layout("broadcast (zero stride on axis 0)", lambda a: np.broadcast_to(first_along_axis0(a), a.shape), broadcast=True),
        Layout("read-only", _numpy_read_only),
    )
}


def torch_layouts(from_numpy: Callable[[np.ndarray], Any]) -> dict[str, Layout]:
    """The torch layouts, built on the adapter's ``from_numpy`` (which places the tensor on its device)."""

    def transposed(a):
        return from_numpy(np.ascontiguousarray(a.T)).permute(*reversed(range(a.ndim)))

    def step2(a):
        base, index = _step2_base(a)
        return from_numpy(base)[index]

    def expanded(a):
        return from_numpy(first_along_axis0(a)).expand(*a.shape)

    def channels_last(a):
        import torch

        return from_numpy(a).contiguous(memory_format=torch.channels_last)

    return {
        layout.name: layout
        for layout in (
            Layout("contiguous", from_numpy),
            Layout("transposed view", transposed),
            Layout("sliced view (step 2)", step2),
            Layout("expanded (zero stride on axis 0)", expanded, broadcast=True),
            Layout("channels_last", channels_last, ndims=(4,)),
        )
    }
