"""Memory layouts: the forward pass does not depend on how its input is laid out.

A kernel that reads ``data_ptr()`` as if the input were C-contiguous, or steps
through a row with unit stride, is right on every fresh array and silently
wrong on a transposed or sliced view; the other properties only ever pass
fresh contiguous arrays. The layouts come from the adapter (suite/layouts.py).
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from suite.assertions import assert_within
from suite.cases import Case, draw_case
from suite.properties import prop
from suite.properties.invariants import ALL_OPS, exact_in_dtype
from suite.runner import PropertyFailed


def repeated_along_axis0(case: Case) -> Case:
    """``case`` with every slice along axis 0 equal to the first (and every target equal to the
    first): the values a broadcast (zero-stride) view can hold."""
    x = np.repeat(np.take(case.x, [0], axis=0), case.x.shape[0], axis=0)
    targets = None if case.targets is None else np.full_like(case.targets, case.targets[0])
    return Case(case.op, x, case.axis, targets, case.temperature)


@prop(*ALL_OPS, needs_layouts=True, examples_scale=0.6, kernel_sizes=False)  # each example runs every layout; sizes have their own passes in every other property
def layouts(ctx):
    """f(view) = f(contiguous copy) = the exact result within the error bound, for every memory
    layout the backend can express: C and Fortran order, a transposed view, a view with step 2
    (the skipped entries are NaN), negative strides, a broadcast view with a zero stride (of
    values equal along axis 0), a read-only array; for torch, contiguous, transposed, sliced and
    expanded views and channels_last (4-D). Targets of cross-entropy take the same layout.

    No kernel-scale passes: every example already runs every layout, and sizes are covered by
    the kernel-scale passes of every other property."""
    case = draw_case(ctx, min_dims=2, max_dims=4, max_classes=129)
    checked: dict[bool, tuple[Case, np.ndarray, np.ndarray]] = {}
    for name, layout in ctx.adapter.layouts.items():
        if not layout.applies(case.x):
            continue
        if layout.broadcast not in checked:
            values = repeated_along_axis0(case) if layout.broadcast else case
            checked[layout.broadcast] = (values, exact_in_dtype(values, ctx.dtype), values.bound(ctx.dtype))
        values, exact, bound = checked[layout.broadcast]
        try:
            out = values.run(ctx, layout=name)
            assert_within(ctx, out, exact, bound, f"{ctx.op}(x) with x a {name} array")
        except PropertyFailed:
            ctx.draw(st.just(name), "layout")  # the failing layout, labelled in the counterexample
            if layout.broadcast:
                ctx.draw(st.just("x with every slice along axis 0 equal to x[0]"), "broadcast values")
            raise
