"""The full battery over every built-in implementation: one test id per
implementation, op, property and dtype, so one failure hides nothing else."""
from __future__ import annotations

import pytest

from suite.adapter import builtin, builtin_adapters
from suite.ops import DETERMINISTIC_OPS, SAMPLER_OPS
from suite.properties import properties_for
from suite.runner import FAIL, SKIP, run_property


def battery_params(ops=DETERMINISTIC_OPS + SAMPLER_OPS):
    for adapter in builtin_adapters():
        reason = adapter.unavailable_reason()
        if reason:
            yield pytest.param(adapter.name, None, None, None, id=f"{adapter.name}-unavailable", marks=pytest.mark.skip(reason=reason))
            continue
        for op in ops:
            if op not in adapter.ops:
                continue
            for prop in properties_for(op, adapter.differentiable):
                for dtype in adapter.dtypes:
                    if prop.skip_reason(dtype):
                        continue
                    yield pytest.param(adapter.name, op, prop, dtype, id=f"{adapter.name}-{op}-{prop.name}-{dtype}")


@pytest.mark.parametrize("implementation, op, prop, dtype", list(battery_params()))
def test_property(implementation, op, prop, dtype, selected_implementations):
    if selected_implementations and implementation not in selected_implementations:
        pytest.skip("not selected with --implementations")
    outcome = run_property(prop, builtin(implementation), op, dtype)
    if outcome.status == FAIL:
        pytest.fail(outcome.report(), pytrace=False)
    if outcome.status == SKIP:
        pytest.skip(outcome.message)
