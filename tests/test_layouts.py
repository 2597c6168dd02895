"""The layouts of suite/layouts.py hold the given values in the layout their name says."""
from __future__ import annotations

import numpy as np
import pytest

from suite.adapter import builtin
from suite.layouts import NUMPY_LAYOUTS

X = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
ROWS = np.repeat(X[:1], 2, axis=0)


@pytest.mark.parametrize("name", list(NUMPY_LAYOUTS))
def test_numpy_layout_holds_the_values(name):
    layout = NUMPY_LAYOUTS[name]
    values = ROWS if layout.broadcast else X
    a = layout.build(values)
    assert np.array_equal(a, values) and not np.shares_memory(a, values)


def test_numpy_layouts_are_what_they_say():
    built = {name: layout.build(ROWS if layout.broadcast else X) for name, layout in NUMPY_LAYOUTS.items()}
    assert built["C order"].flags.c_contiguous
    assert built["Fortran order"].flags.f_contiguous and not built["Fortran order"].flags.c_contiguous
    assert built["transposed view"].strides[-1] > built["transposed view"].strides[0]
    assert built["sliced view (step 2)"].strides[-1] == 2 * X.itemsize
    assert np.isnan(built["sliced view (step 2)"].base).any()  # the skipped entries
    assert all(s < 0 for s in built["negative strides"].strides)
    assert built["broadcast (zero stride on axis 0)"].strides[0] == 0
    assert not built["read-only"].flags.writeable


def test_broadcast_needs_values_equal_along_axis0():
    with pytest.raises(ValueError):
        NUMPY_LAYOUTS["broadcast (zero stride on axis 0)"].build(X)


def test_torch_layouts_are_what_they_say():
    torch = pytest.importorskip("torch")
    layouts = builtin("torch-cpu").layouts
    t = layouts["transposed view"].build(X)
    assert torch.equal(t, torch.from_numpy(X)) and not t.is_contiguous()
    s = layouts["sliced view (step 2)"].build(X)
    assert torch.equal(s, torch.from_numpy(X)) and s.stride()[-1] == 2
    e = layouts["expanded (zero stride on axis 0)"].build(ROWS)
    assert torch.equal(e, torch.from_numpy(ROWS)) and e.stride()[0] == 0
    x4 = np.arange(120, dtype=np.float32).reshape(2, 3, 4, 5)
    c = layouts["channels_last"].build(x4)
    assert torch.equal(c, torch.from_numpy(x4)) and c.is_contiguous(memory_format=torch.channels_last)
    assert not layouts["channels_last"].applies(X)


def test_jax_lists_no_layouts():
    assert builtin("jax").layouts == {}
