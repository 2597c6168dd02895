"""Implementation-defined behaviours: observed and reported, not failed (by default).

The contract does not fix what softmax returns for a fully masked row, a +inf
logit or an empty axis; libraries differ. Each probe runs one fixed input,
names what it saw, and never fails: a probe row is a behaviour, not a verdict. Where
the unusual row disturbs the ordinary row beside it (a bug under any convention, which
the required properties catch on their own inputs), the observation says so too.
"""
from __future__ import annotations

import numpy as np

from suite.assertions import assert_within
from suite.cases import Case
from suite.ops import DETERMINISTIC_OPS, NORMALISED, names
from suite.properties import PROBE, prop
from suite.properties.invariants import exact_in_dtype
from suite.runner import ImplementationRaised, PropertyFailed

ORDINARY_ROW = [1.0, 2.0, 3.0]
# The ops whose row is 0/0 when every entry is -inf, or inf/inf with a +inf entry.
NORMALISED_OPS = names(lambda op: NORMALISED in op.traits)


def describe(values: np.ndarray, op: str) -> str:
    """A short name for what an op returned on one row."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return f"empty array of shape {tuple(np.shape(values))}"
    if np.all(np.isnan(v)):
        return "NaN"
    if np.all(v == 0):
        return "zeros"
    if np.all(np.isneginf(v)):
        return "-inf"
    if np.all(np.isposinf(v)):
        return "+inf"
    if v.size > 1 and np.allclose(v, 1.0 / v.size):
        return "uniform"
    return "[" + ", ".join(repr(float(t)) for t in v.ravel()) + "]"


def _observe(ctx, unusual_row: list[float]) -> str:
    x = np.array([unusual_row, ORDINARY_ROW]).astype(ctx.np_dtype)
    case = Case(ctx.op, x, -1, np.array([0, 2]), 1.0)
    try:
        out = case.run(ctx)
    except ImplementationRaised as raised:
        return raised.message
    ordinary = Case(ctx.op, x[1:], -1, case.targets[1:], 1.0)
    seen = describe(out[0], ctx.op)
    try:
        assert_within(ctx, out[1:], exact_in_dtype(ordinary, ctx.dtype), ordinary.bound(ctx.dtype), f"ordinary row beside {unusual_row}")
    except PropertyFailed as disturbed:
        return f"{seen}; the ordinary row beside it is wrong: {disturbed.message}"
    return seen


@prop(*NORMALISED_OPS, kind=PROBE, required=False)
def fully_masked_row(ctx):
    """What the op returns for a row whose entries are all -inf (mathematically 0/0)."""
    return _observe(ctx, [-np.inf, -np.inf, -np.inf])


@prop(*NORMALISED_OPS, kind=PROBE, required=False)
def posinf_logit(ctx):
    """What the op returns for a row with a +inf logit (mathematically inf/inf)."""
    return _observe(ctx, [np.inf, 1.0, 2.0])


@prop(*DETERMINISTIC_OPS, kind=PROBE, required=False)
def empty_axis(ctx):
    """What the op returns when the class axis has length 0 (mathematically LSE = -inf)."""
    x = np.zeros((2, 0), dtype=ctx.np_dtype)
    case = Case(ctx.op, x, -1, np.zeros(2, dtype=np.int64), 1.0)
    try:
        out = case.run(ctx)
    except ImplementationRaised as raised:
        return raised.message
    return f"shape {out.shape}: {describe(out, ctx.op)}" if out.size else f"empty array of shape {out.shape}"
