"""Invariants every implementation of the deterministic ops must satisfy.

Comparisons use the bounds of :mod:`suite.bounds` (first-order error analysis
times two), never a fixed rtol. Where a property compares two outputs of the
implementation, each is within its bound of the exact value, so the allowed
difference is the sum of the two bounds.
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from suite import backends, sizes
from suite import dtypes as dt
from suite import strategies as sst
from suite.assertions import assert_true, assert_within, comparison_type
from suite.cases import Case, draw_case
from suite.ops import LIKE_INPUT, LOG_PROBABILITIES, MOVES_WITH_SHIFT, OPS, PROBABILITIES, names
from suite.properties import prop

# The ops of each generic property, read from the records (suite/ops.py): a new op whose record
# fits is covered without touching this file.
AXIS_OPS = names(lambda op: op.deterministic and op.takes_axis)
ALL_OPS = AXIS_OPS + names(lambda op: op.deterministic and not op.takes_axis)
ELEMENTWISE_OPS = names(lambda op: op.deterministic and op.output == LIKE_INPUT)
PROBABILITY_OPS = names(lambda op: PROBABILITIES in op.traits)


def exact_in_dtype(case: Case, dtype: str) -> np.ndarray:
    """The exact result, with values that round past r_max replaced by the infinity they round to."""
    exact = case.exact()
    threshold = comparison_type(dtype)(dt.overflow_threshold(dtype))  # float64 below float64: not x87
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(exact) >= threshold, np.sign(exact) * np.inf, exact)


def masked_prefix(x: np.ndarray, axis: int) -> np.ndarray:
    """``x`` with the first half of every row along ``axis`` -inf, and 0 at the end of a row left
    with no finite entry. A blocked online softmax whose first block is all -inf computes the
    rescale exp(m_old - m_new) as exp((-inf) - (-inf)) = NaN: random masks almost never cover a
    whole block of a kernel-scale row, so the widest passes build one at every seed."""
    moved = np.moveaxis(x, axis, -1).copy()
    moved[..., : moved.shape[-1] // 2] = -np.inf
    empty = np.all(np.isneginf(moved), axis=-1)
    moved[..., -1] = np.where(empty, 0, moved[..., -1])
    return np.moveaxis(moved, -1, axis)


def row_selector(case: Case, row: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of (input, output) for the ``row``-th 1-D slice along the class axis."""
    moved = np.moveaxis(np.zeros(case.x.shape, dtype=bool), case.class_axis, -1)
    flat_rows = moved.reshape(-1, moved.shape[-1])
    flat_rows[row % flat_rows.shape[0]] = True
    in_mask = np.moveaxis(flat_rows.reshape(moved.shape), -1, case.class_axis)
    out_mask = in_mask.any(axis=case.class_axis) if case.reduces else in_mask
    return in_mask, out_mask


@prop(*ALL_OPS)
def output_contract(ctx):
    """out.shape and out.dtype follow the contract: the shape of x for softmax, log_softmax and
    temperature softmax, x's shape without axis for logsumexp, (N,) for cross_entropy; the dtype of x.

    Also: no exception on any valid input (finite or masked logits, any valid axis)."""
    case = draw_case(ctx)
    out = case.run(ctx)  # checks the shape
    if out.dtype != ctx.np_dtype:
        ctx.fail(f"out.dtype={dt.dtype_name(out.dtype)}, but should be {ctx.dtype} [{ctx.op}(x)]", ctx.dtype, dt.dtype_name(out.dtype))


@prop(*ALL_OPS)
def input_unmodified(ctx):
    """x after the call equals x before it: the op does not write into its input, also when x
    requires grad (a fused kernel may store its gradient in the input then, as training calls it),
    and for cross_entropy with the options the target declares (a kernel may zero the rows whose
    target is ignore_index)."""
    case = draw_case(ctx)
    case.run(ctx, check_unmodified=True)
    if ctx.adapter.differentiable and backends.get(ctx.adapter.backend).tracked is not None:
        case.run(ctx, check_unmodified=True, tracked=True)
    from suite.properties.options import declared, draw_options

    supported = declared(ctx)
    if supported and case.targets is not None and case.x.ndim == 2 and case.x.size:
        targets, options = draw_options(ctx, case.x, case.targets, supported)
        ctx.call(case.x, targets, check_unmodified=True, **options)


@prop(*ALL_OPS)
def finite_outputs(ctx):
    """For finite (or partly masked) x, out_i is finite wherever the exact result is a finite
    number of the dtype: softmax in [0, 1], log_softmax and cross-entropy whenever the entry
    or target is unmasked, logsumexp whenever LSE(x) <= r_max. Overflowing exp(x) is a bug."""
    case = draw_case(ctx)
    out = case.run(ctx)
    exact = case.exact()
    with np.errstate(invalid="ignore"):
        representable = np.abs(exact) + case.bound(ctx.dtype) < dt.overflow_threshold(ctx.dtype)
    assert_true(
        ctx,
        ~representable | np.isfinite(out),
        out,
        f"not finite, but the exact result is a finite {ctx.dtype} [{ctx.op}(x)]",
    )


@prop(*ALL_OPS, widest=True, menu=True)
def definition(ctx):
    """out agrees with the definition evaluated in extended precision, within the error bound:
    softmax_i = exp(x_i) / sum_j exp(x_j); log_softmax_i = x_i - LSE(x); LSE(x) = log sum_j exp(x_j);
    cross_entropy_r = LSE(x_r) - x_r[t_r]; temperature_softmax = softmax(x / T)."""
    case = draw_case(ctx)
    out = case.run(ctx)
    assert_within(ctx, out, exact_in_dtype(case, ctx.dtype), case.bound(ctx.dtype), f"{ctx.op}(x)")


@prop(*PROBABILITY_OPS)
def in_unit_interval(ctx):
    """0 <= softmax(x)_i <= 1 for every entry, exactly (no rounding excuse: 0 and 1 are representable)."""
    out = draw_case(ctx).run(ctx)
    assert_true(ctx, (out >= 0) & (out <= 1), out, f"outside [0, 1] [{ctx.op}(x)]")


@prop(*PROBABILITY_OPS)
def sums_to_one(ctx):
    """|sum_i softmax(x)_i - 1| <= sum_i bound_i along the axis: the output is a probability vector."""
    case = draw_case(ctx)
    out = case.run(ctx)
    total = np.sum(out.astype(np.longdouble), axis=case.axis)
    allowed = np.sum(case.bound(ctx.dtype), axis=case.axis)
    assert_within(ctx, total, np.ones_like(total), allowed, f"sum({ctx.op}(x), axis={case.axis})")


def _exact_shift(ctx, x: np.ndarray) -> tuple[np.ndarray, float]:
    """x rounded to a grid on which x + c is exact, and the shift c.

    With B = max|x| + |c| and p significand bits, every multiple of 2**(floor(log2 B) + 2 - p)
    up to B is representable, so quantising x to that grid makes x and x + c exact."""
    finite = np.isfinite(x)
    mags = np.abs(x[finite].astype(np.float64))
    big = float(mags.max()) if mags.size else 1.0
    exponent = math.floor(math.log2(max(big, 1.0)))
    power = ctx.draw(st.integers(-6, 2), "shift exponent")
    k = ctx.draw(st.sampled_from([1, -1, 2, -3]), "shift multiple")
    top_exponent = math.floor(math.log2(dt.largest(ctx.dtype)))
    shift_exponent = exponent + power
    if shift_exponent > top_exponent - 3 or big + abs(k) * 2.0**shift_exponent >= dt.largest(ctx.dtype) / 2:
        shift_exponent = exponent - 8  # near r_max only a small shift keeps x + c finite
    c = k * 2.0**shift_exponent
    grid = max(2.0 ** (math.floor(math.log2(big + abs(c))) + 2 - dt.significand_bits(ctx.dtype)), dt.smallest_subnormal(ctx.dtype))
    quantised = np.where(finite, np.round(x.astype(np.float64) / grid) * grid, x.astype(np.float64))
    c = round(c / grid) * grid
    xq = quantised.astype(ctx.np_dtype)
    shifted = (quantised + c).astype(ctx.np_dtype)
    with np.errstate(invalid="ignore"):
        exact = np.array_equal(xq.astype(np.float64), quantised) and np.array_equal(shifted.astype(np.float64), quantised + c)
    assume(exact and c != 0)
    return xq, c


@prop(*ALL_OPS)
def shift_invariance(ctx):
    """f(x + c) = f(x) for softmax, log_softmax, temperature softmax and cross-entropy, and
    LSE(x + c) = LSE(x) + c, for constants c that keep x + c exact."""
    case = draw_case(ctx)
    xq, c = _exact_shift(ctx, case.x)
    base = case.with_x(xq)
    moved = case.with_x((xq.astype(np.float64) + c).astype(ctx.np_dtype))
    out = base.run(ctx)
    out_shifted = moved.run(ctx)
    offset = c if MOVES_WITH_SHIFT in case.record.traits else 0.0
    with np.errstate(invalid="ignore"):
        expected = out.astype(np.longdouble) + np.longdouble(offset)
    assert_within(ctx, out_shifted, expected, base.bound(ctx.dtype) + moved.bound(ctx.dtype), f"{ctx.op}(x + {c!r}) vs {ctx.op}(x)")


@prop(*ALL_OPS)
def batch_independence(ctx):
    """f(x)[r] depends on row r of x only: replacing every other row by wildly different logits
    (huge, tiny, masked) leaves row r's result unchanged. Catches a max or sum taken over the batch."""
    case = draw_case(ctx, min_dims=2)
    other_regime = ctx.draw(st.sampled_from(["extreme", "mixed_rows", "masked"]), "other rows regime")
    others = ctx.draw(sst.logits(ctx.dtype, case.x.shape, other_regime, case.axis), "other rows")
    row = ctx.draw(st.integers(0, 10**6), "row")
    in_mask, out_mask = row_selector(case, row)
    replaced = case.with_x(np.where(in_mask, case.x, others))
    alone = case.run(ctx)[out_mask]
    in_batch = replaced.run(ctx)[out_mask]
    bound = case.bound(ctx.dtype)[out_mask]
    assert_within(ctx, in_batch, alone, 2 * bound, f"row {row} of {ctx.op}(x) after changing the other rows")


@prop(*AXIS_OPS)
def axis_honoured(ctx):
    """f(x, axis) = moveaxis(f(moveaxis(x, axis, -1), axis=-1), -1, axis): the op normalises along
    the axis it is given, for every valid axis, not always along the last one."""
    case = draw_case(ctx, min_dims=2)
    assume(case.class_axis != case.x.ndim - 1)
    out = case.run(ctx)
    last = Case(case.op, np.ascontiguousarray(np.moveaxis(case.x, case.axis, -1)), -1, None, case.temperature)
    out_last = last.run(ctx)
    expected = out_last if case.reduces else np.moveaxis(out_last, -1, case.axis)
    bound = last.bound(ctx.dtype)
    bound = bound if case.reduces else np.moveaxis(bound, -1, case.axis)
    assert_within(ctx, out, expected, 2 * bound, f"{ctx.op}(x, axis={case.axis}) vs the same along axis=-1")


@prop(*ALL_OPS)
def permutation_equivariance(ctx):
    """Permuting the classes permutes softmax/log_softmax/temperature outputs the same way and
    leaves logsumexp and cross-entropy (with targets relabelled) unchanged.

    Up to 64 classes the permutation is drawn entry by entry (so it shrinks); past that, at
    kernel scale, it comes from a seeded generator."""
    case = draw_case(ctx, max_classes=64)
    k = case.x.shape[case.class_axis]
    if k <= sst.ELEMENTWISE_MAX:
        perm = np.array(ctx.draw(st.permutations(range(k)), "permutation"), dtype=np.int64)
    else:
        perm = np.random.default_rng(ctx.draw(st.integers(0, 2**32 - 1), "permutation seed")).permutation(k)
    permuted = case.with_x(np.take(case.x, perm, axis=case.class_axis))
    if case.targets is not None:  # the targets follow their classes
        permuted = Case(case.op, permuted.x, -1, np.argsort(perm)[case.targets])
    out = case.run(ctx)
    out_permuted = permuted.run(ctx)
    expected = out if case.reduces else np.take(out, perm, axis=case.class_axis)
    bound = case.bound(ctx.dtype)
    bound = bound if case.reduces else np.take(bound, perm, axis=case.class_axis)
    assert_within(ctx, out_permuted, expected, 2 * bound, f"{ctx.op}(x permuted along axis {case.axis})")


@prop(*ELEMENTWISE_OPS)
def monotonicity(ctx):
    """x_i <= x_j implies f(x)_i <= f(x)_j along the axis (softmax, log_softmax, temperature
    softmax with T > 0), up to the two entries' error bounds."""
    case = draw_case(ctx)
    out = case.run(ctx).astype(np.longdouble)
    bound = case.bound(ctx.dtype)
    order = np.argsort(case.x.astype(np.float64), axis=case.axis, kind="stable")
    ranked = np.take_along_axis(out, order, axis=case.axis)
    ranked_bound = np.take_along_axis(bound, order, axis=case.axis)
    ranked_x = np.take_along_axis(case.x.astype(np.float64), order, axis=case.axis)
    with np.errstate(invalid="ignore"):
        step = np.diff(ranked, axis=case.axis)
    k = ranked_bound.shape[case.axis]
    slack = np.take(ranked_bound, range(k - 1), axis=case.axis) + np.take(ranked_bound, range(1, k), axis=case.axis)
    with np.errstate(invalid="ignore"):
        tied = np.diff(ranked_x, axis=case.axis) == 0
    # Ties must give equal outputs, and a strict increase must not give a decrease.
    ok = np.where(tied, np.abs(step) <= slack, step >= -slack) | np.isnan(step)
    assert_true(ctx, ok, step, f"decreases where x increases (sorted by x along axis {case.axis}) [{ctx.op}(x)]")


@prop("logsumexp")
def lse_bounds(ctx):
    """max(x) <= LSE(x) <= max(x) + log(K) for K entries along the axis (within the error bound),
    wherever LSE(x) is a finite number of the dtype."""
    case = draw_case(ctx)
    out = case.run(ctx).astype(np.longdouble)
    with np.errstate(invalid="ignore"):
        top = np.max(case.x.astype(np.longdouble), axis=case.axis)
    k = case.x.shape[case.class_axis]
    bound = case.bound(ctx.dtype)
    with np.errstate(invalid="ignore"):
        representable = np.abs(case.exact()) + bound < dt.overflow_threshold(ctx.dtype)
        ok = ~representable | ((out >= top - bound) & (out <= top + np.log(np.longdouble(k)) + bound))
    assert_true(ctx, ok, out, f"outside [max(x), max(x) + log({k})] [logsumexp(x)]")


@prop("logsumexp")
def lse_all_masked(ctx):
    """LSE of a row whose entries are all -inf is -inf (log of an empty sum), and such rows do
    not disturb the others."""
    case = draw_case(ctx, min_dims=2, regimes=("moderate", "masked", "extreme"))
    row = ctx.draw(st.integers(0, 10**6), "masked row")
    in_mask, _ = row_selector(case, row)
    masked = case.with_x(np.where(in_mask, -np.inf, case.x).astype(ctx.np_dtype))
    out = masked.run(ctx)
    assert_within(ctx, out, exact_in_dtype(masked, ctx.dtype), masked.bound(ctx.dtype), "logsumexp(x with an all -inf row)")


@prop("logsumexp")
def lse_posinf(ctx):
    """An entry of +inf makes that row's LSE +inf, and only that row's."""
    case = draw_case(ctx, regimes=("moderate", "masked", "extreme"))
    row = ctx.draw(st.integers(0, 10**6), "row with +inf")
    in_mask, _ = row_selector(case, row)
    position = ctx.draw(st.integers(0, case.x.shape[case.class_axis] - 1), "position of +inf")
    hit = in_mask & (np.indices(case.x.shape)[case.class_axis] == position)
    poisoned = case.with_x(np.where(hit, np.inf, case.x).astype(ctx.np_dtype))
    out = poisoned.run(ctx)
    assert_within(ctx, out, exact_in_dtype(poisoned, ctx.dtype), poisoned.bound(ctx.dtype), "logsumexp(x with a +inf entry)")


@prop(*ALL_OPS, widest=True)
def masked_entries(ctx):
    """-inf entries in a row with a finite entry get probability exactly 0 (log-probability -inf)
    and do not disturb the others: the unmasked entries equal the op on the unmasked sub-row.
    On the widest sizes the first half of every row is masked too (see masked_prefix)."""
    case = draw_case(ctx, regimes=("masked",))
    if ctx.sizes is not None and ctx.sizes.kind in (sizes.WIDEST_CLASSES, sizes.WIDEST_ROWS):
        case = case.with_x(masked_prefix(case.x, case.class_axis))
    out = case.run(ctx)
    if not case.reduces:
        masked = np.isneginf(case.x)
        exact_value = -np.inf if LOG_PROBABILITIES in case.record.traits else 0.0
        assert_true(ctx, ~masked | (out == exact_value), out, f"a -inf entry should give exactly {exact_value} [{ctx.op}(x)]")
    assert_within(ctx, out, exact_in_dtype(case, ctx.dtype), case.bound(ctx.dtype), f"{ctx.op}(x with -inf entries)")


@prop(*ALL_OPS)
def nan_propagation(ctx):
    """A NaN anywhere in a row makes that row's result NaN, and only that row's."""
    case = draw_case(ctx, regimes=("moderate", "masked", "extreme"))
    row = ctx.draw(st.integers(0, 10**6), "row with NaN")
    in_mask, _ = row_selector(case, row)
    position = ctx.draw(st.integers(0, case.x.shape[case.class_axis] - 1), "position of NaN")
    hit = in_mask & (np.indices(case.x.shape)[case.class_axis] == position)
    poisoned = case.with_x(np.where(hit, np.nan, case.x).astype(ctx.np_dtype))
    out = poisoned.run(ctx)
    assert_within(ctx, out, exact_in_dtype(poisoned, ctx.dtype), poisoned.bound(ctx.dtype), f"{ctx.op}(x with a NaN)")


def _integer_logits(ctx) -> Case:
    """Small-integer logits (exact in every dtype) with a unique maximum in every row."""
    if ctx.sizes is not None:
        shape, _ = ctx.sizes.shape(ctx.draw, OPS[ctx.op], last_axis=True)
    else:
        shape = ctx.draw(sst.shapes(max_classes=32), "shape")
    rng = np.random.default_rng(ctx.draw(st.integers(0, 2**32 - 1), "generator seed"))
    x = rng.integers(-8, 8, size=shape).astype(np.float64)
    winner = rng.integers(0, shape[-1], size=shape[:-1])
    np.put_along_axis(x, winner[..., None], 8.0, axis=-1)
    return Case(ctx.op, x.astype(ctx.np_dtype), -1, None, 1.0)


@prop("temperature_softmax")
def temperature_zero_limit(ctx):
    """As T -> 0, softmax(x / T) tends to the one-hot vector at the (unique) argmax: with the
    maximum ahead by a gap >= 1 and T = 1 / L, every other entry is <= exp(-L)."""
    case = _integer_logits(ctx)
    L = math.ceil(-math.log(ctx.u)) + 4
    cold = Case(case.op, case.x, -1, None, 1.0 / L)
    out = cold.run(ctx)
    one_hot = (case.x == np.max(case.x, axis=-1, keepdims=True)).astype(np.float64)
    allowed = cold.bound(ctx.dtype) + case.x.shape[-1] * math.exp(-L)
    assert_within(ctx, out, one_hot, allowed, f"temperature_softmax(x, T=1/{L}) vs one-hot argmax")


@prop("temperature_softmax")
def temperature_infinite_limit(ctx):
    """As T -> inf, softmax(x / T) tends to the uniform distribution 1/K: with T = spread(x) / u
    every entry is within 2u/K of 1/K."""
    case = _integer_logits(ctx)
    spread = float(np.max(case.x.astype(np.float64)) - np.min(case.x.astype(np.float64)))
    hot = Case(case.op, case.x, -1, None, max(spread, 1.0) / ctx.u)
    out = hot.run(ctx)
    k = case.x.shape[-1]
    allowed = hot.bound(ctx.dtype) + 4 * ctx.u / k
    assert_within(ctx, out, np.full(case.x.shape, 1.0 / k), allowed, f"temperature_softmax(x, T={hot.temperature:.3g}) vs uniform 1/{k}")
