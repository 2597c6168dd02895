"""The huge-array check (suite/huge.py) at small scale, and at full scale behind the ``huge`` marker.

At full scale the boundaries are 2**31 and 2**32 elements; here the same code runs
with the boundary at 2**20 against a softmax whose flat index wraps at 2**20, the
way a 32-bit index wraps at 2**31, and against the correct reference.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from implementations import numpy_reference
from suite import huge
from suite.adapter import builtin
from suite.properties import FIXED, Property, all_properties, properties_for
from suite.runner import FAIL, PASS, SKIP, run_property

SMALL = 2**20


def _small(boundaries=(SMALL,), free=None) -> Property:
    return Property(
        "huge_indices_small", ("softmax", "log_softmax", "logsumexp", "cross_entropy", "temperature_softmax"),
        lambda ctx: huge.check(ctx, boundaries, classes=1000, free=free), kind=FIXED,
    )


def wrapped_read(x: np.ndarray) -> np.ndarray:
    """x read through a flat index that wraps at SMALL, as an int32 index wraps at 2**31."""
    flat = np.ascontiguousarray(x).reshape(-1)
    return flat[np.arange(flat.size, dtype=np.int64) % SMALL].reshape(x.shape)


def wrapped_softmax(x, axis=-1):
    return numpy_reference.softmax(wrapped_read(x), axis=axis)


def unwritten_softmax(x, axis=-1):
    """Writes only the first SMALL outputs: the rows past the boundary stay 0."""
    out = np.zeros(x.shape, dtype=x.dtype).reshape(-1)
    out[:SMALL] = numpy_reference.softmax(x, axis=axis).reshape(-1)[:SMALL]
    return out.reshape(x.shape)


def _with(op, fn):
    return dataclasses.replace(builtin("numpy-reference"), ops={op: fn})


@pytest.mark.parametrize("op", ["softmax", "log_softmax", "logsumexp", "cross_entropy", "temperature_softmax"])
def test_reference_passes_past_the_small_boundary(op):
    outcome = run_property(_small(), builtin("numpy-reference"), op, "float32")
    assert outcome.status == PASS, outcome.report()
    assert outcome.stats["largest_boundary_checked"] == SMALL


def test_wrapped_flat_index_is_caught_at_the_straddling_row():
    outcome = run_property(_small(), _with("softmax", wrapped_softmax), "softmax", "float32")
    assert outcome.status == FAIL
    assert "row 1048" in outcome.message, outcome.report()  # 2**20 // 1000: the row that straddles


def test_unwritten_rows_past_the_boundary_are_caught():
    outcome = run_property(_small(), _with("softmax", unwritten_softmax), "softmax", "float32")
    assert outcome.status == FAIL, outcome.report()


def test_too_little_memory_skips_with_the_sizes():
    outcome = run_property(_small(free={"host": 2**20}), builtin("numpy-reference"), "softmax", "float16")
    assert outcome.status == SKIP
    assert outcome.message.startswith("not enough memory for huge arrays: 1050 x 1000 float16 (past element 2**20): host memory:")


def test_default_run_leaves_huge_out():
    assert all_properties()["huge_indices"].opt_in == "huge"
    assert "huge_indices" not in [p.name for p in properties_for("softmax")]


def test_memory_estimate_of_the_full_sizes():
    """2**31 float16 elements: 4 GiB in, 4 GiB out; NumPy's float32 temporaries dominate."""
    shape = huge.shape_for(2**31)
    assert shape[0] * shape[1] > 2**31 and huge.checked_rows(2**31, shape)[1] == 2**31 // huge.CLASSES
    needed = huge.memory_needed("numpy", "cpu", "softmax", "float16", shape)["host"]
    assert 40 * huge.GIB < needed < 60 * huge.GIB
    cuda = huge.memory_needed("torch", "cuda", "softmax", "float16", huge.shape_for(2**32))
    assert cuda["device"] < 139 * huge.GIB


@pytest.mark.huge
@pytest.mark.parametrize("implementation", ["numpy-reference", "torch-cpu", "torch-cuda"])
def test_huge_arrays(implementation):
    adapter = builtin(implementation)
    if adapter.unavailable_reason():
        pytest.skip(adapter.unavailable_reason())
    outcome = run_property(all_properties()["huge_indices"], adapter, "softmax", "float16")
    if outcome.status == SKIP:
        pytest.skip(outcome.message)
    assert outcome.status == PASS, outcome.report()
