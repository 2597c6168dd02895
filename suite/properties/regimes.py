"""The regime battery as properties: each regime of suite/regimes.py is one fixed property.

Each checks every output of every row of its tables against the oracle, within the same
certified tolerance as ``definition`` (suite.bounds), NaN where and only where the exact value is
NaN. The tables are the same at every seed, so these verdicts are too. A failure is reported on
the first failing row alone where it fails alone (a one-row repro), else on its whole table with
the row named (a defect that needs the batch, such as one row of a tile).
"""
from __future__ import annotations

import numpy as np

from suite import regimes
from suite.assertions import assert_within, within
from suite.cases import Case
from suite.ops import OPS, names
from suite.properties import FIXED, prop
from suite.properties.gradients import GRAD_OPS, check_vjp
from suite.properties.invariants import exact_in_dtype

DETERMINISTIC = names(lambda op: op.deterministic)
WITH_TARGETS = names(lambda op: "targets" in op.inputs)
WITH_TEMPERATURE = names(lambda op: "temperature" in op.inputs)


def check_regime(ctx, regime: regimes.Regime, check=None) -> None:
    """Run every table of ``regime`` through ``check(ctx, table, case, what)`` (default: the op's
    outputs against the exact value), which returns how many outputs it checked; count the rows and
    outputs checked per pattern and size class."""
    check = check or _check_table
    plan = ctx.size_plan
    for table in regimes.tables(regime, ctx.op, ctx.dtype, budget=plan.budget, max_rows=plan.max_rows):
        case = Case(ctx.op, table.x, -1, table.targets, table.temperature)
        outputs = check(ctx, table, case, f"{regime.name} regime: {table.pattern}, {table.size_class} rows")
        ctx.count(f"rows.{regime.name}.{table.pattern}.{table.size_class}", table.x.shape[0])
        ctx.count(f"outputs.{regime.name}.{table.pattern}.{table.size_class}", outputs)


def _check_table(ctx, table: regimes.Table, case: Case, where: str) -> int:
    """Check every output of the case's call; return how many were checked."""
    what = f"{ctx.op}(x), {where}"
    out = case.run(ctx)
    exact, bound = exact_in_dtype(case, ctx.dtype), case.bound(ctx.dtype)
    close = within(out, exact, bound, ctx.dtype)
    if np.all(close):
        return out.size
    rows = close if OPS[ctx.op].reduces else np.all(close, axis=-1)
    first = int(np.argmin(rows))
    alone = _row(case, first)
    _show(ctx, alone)
    assert_within(ctx, alone.run(ctx), exact_in_dtype(alone, ctx.dtype), alone.bound(ctx.dtype), what)
    total = case.x.shape[0]
    _show(ctx, case)
    assert_within(ctx, case.run(ctx), exact, bound, f"{what}; row {first} of {total} fails in the batch and passes alone")
    ctx.fail(f"row {first} of {total} failed on one call and passed on the next: is the result nondeterministic? [{what}]")


def _show(ctx, case: Case) -> None:
    """The case's inputs, for the report of a failure."""
    for name in ("x", "targets", "temperature"):
        if getattr(case, name) is not None:
            ctx.show(name, getattr(case, name))


def _row(case: Case, i: int) -> Case:
    targets = case.targets[i : i + 1] if case.targets is not None else None
    return Case(case.op, case.x[i : i + 1], case.axis, targets, case.temperature)


@prop(*DETERMINISTIC, kind=FIXED)
def regime_masks(ctx):
    """out = op(x) within the certified tolerance on every row masked by design: the first m, the
    last m, a block of m entries (m every block boundary 2^k - 1, 2^k, 2^k + 1, half the row, n - 1)
    or the causal triangle j > r set to -inf, at every size class."""
    check_regime(ctx, regimes.REGIMES["masks"])


@prop(*DETERMINISTIC, kind=FIXED)
def regime_ties(ctx):
    """out = op(x) within the certified tolerance where the maximum is taken by exactly 2, 3 or all
    n entries (an argmax found by value, not index, counts a tie wrongly)."""
    check_regime(ctx, regimes.REGIMES["ties"])


@prop(*DETERMINISTIC, kind=FIXED)
def regime_binades(ctx):
    """out = op(x) within the certified tolerance with the row's maximum in every normal binade of
    the dtype, either sign, and with gaps to the maximum in every binade from 2^-10 to r_max."""
    check_regime(ctx, regimes.REGIMES["binades"])


@prop(*WITH_TARGETS, kind=FIXED)
def regime_class_ids(ctx):
    """cross_entropy(x, t) within the certified tolerance for t = K - 1 and for t in the last partial
    group of 8, 16 and 32 classes (the last full group where K is a multiple)."""
    check_regime(ctx, regimes.REGIMES["class_ids"])


@prop(*DETERMINISTIC, kind=FIXED)
def regime_tiles(ctx):
    """out = op(x) within the certified tolerance on every row of a 4097-row batch, among them the
    first and last rows of tiles of 256, 1024 and 4096 rows."""
    check_regime(ctx, regimes.REGIMES["tiles"])


@prop(*WITH_TEMPERATURE, kind=FIXED)
def regime_temperatures(ctx):
    """softmax(x / T) within the certified tolerance for T = 1e-3, 1e-2, ..., 1e3 and logits x = T z
    whose gaps are of the order of T."""
    check_regime(ctx, regimes.REGIMES["temperatures"])


@prop(*GRAD_OPS, kind=FIXED, differentiable_only=True)
def regime_gradients(ctx):
    """The VJP with a fixed cotangent equals the closed form within its bound (as grad_closed_form)
    on fixed tables: the row maximum in every binade of the dtype and prefix masks, at 3 and 33
    classes of 1024 rows and at 65537 rows of 3 classes."""
    check_regime(ctx, regimes.REGIMES["gradients"], _check_vjp_table)


def _check_vjp_table(ctx, table: regimes.Table, case: Case, where: str) -> int:
    """The VJP of the case with a fixed cotangent in [-10, 10]; return how many entries were checked."""
    rng = regimes.generator(f"gradients:{table.pattern}:cotangent", ctx.op, ctx.dtype, table.x.shape[1])
    g = regimes.rounded(rng.uniform(-10, 10, case.expected_shape()), ctx.dtype)
    _show(ctx, case)
    check_vjp(ctx, case, g, f"vjp of {ctx.op}(x), {where}")
    return table.x.size
