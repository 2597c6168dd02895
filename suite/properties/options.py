"""Cross-entropy as trainers call it: the options of its contract.

A target declares which of cross_entropy's keyword options it supports
(suite.ops.CROSS_ENTROPY_OPTIONS: ``ignore_index``, ``label_smoothing``,
``weight``, ``reduction``, ``z_loss``, ``softcap``), a built-in in its adapter's
``options``, a third-party callable as its attribute ``supports``. These
properties draw a combination among the declared options and compare the value
(and, on a differentiable backend, the gradient) with the exact one
(suite/oracle.py has the definitions, torch's and Liger-Kernel's), within the
bound derived from the plain form's (suite/bounds.py, suite/vjp.py;
docs/error-analysis.md sec. 2.9). A target that declares none is certified on
the plain form, and these are skipped with that reason; the certificate lists
the options certified (``options``).
"""
from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from suite import autodiff
from suite import dtypes as dt
from suite import strategies as sst
from suite.assertions import assert_within
from suite.cases import draw_case
from suite.ops import CROSS_ENTROPY_OPTIONS, OPS
from suite.properties import prop
from suite.properties.gradients import assert_grad_within, draw_cotangent, draw_grad_case

# Logits of the magnitudes a trainer's loss sees. The plain form's properties cover extreme
# magnitudes; under the options an intermediate (the smoothing's sum over K classes, LSE^2) may
# overflow where the loss itself does not, which the contract leaves to the implementation.
OPTION_REGIMES = ("moderate", "ties")
IGNORE_INDEX = -100  # torch's default
SMOOTHING = (0.1, 0.0, 0.25, 1.0)
WEIGHTS = (1.0, 0.0, 0.25, 0.5, 2.0, 3.5)
Z_LOSS = (1e-4, 1e-3, 0.1, 1.0)  # PaLM's 1e-4; larger ones make the z-term's share visible
SOFTCAPS = (30.0, 50.0, 5.0, 1.0)  # Gemma 2's final-logit cap is 30
REDUCTIONS = ("mean", "sum", "none")


def declared(ctx) -> frozenset[str]:
    return frozenset(getattr(ctx.adapter, "options", {}).get(ctx.op, ()))


def _per_row(ctx, n: int, strategy, label: str, seeded) -> np.ndarray:
    """n values: element by element up to sst.ELEMENTWISE_MAX (shrinkable), else from a seeded generator."""
    if n <= sst.ELEMENTWISE_MAX:
        return np.array(ctx.draw(st.lists(strategy, min_size=n, max_size=n), label))
    rng = np.random.default_rng(ctx.draw(st.integers(0, 2**32 - 1), f"{label} seed"))
    return seeded(rng, n)


def draw_options(ctx, x: np.ndarray, targets: np.ndarray, supported: frozenset[str]) -> tuple[np.ndarray, dict]:
    """(targets, options): a nonempty combination of the ``supported`` options with drawn values;
    ignored rows (at least the first) get ``ignore_index`` as their target. A mean has a row that
    is not ignored and a positive denominator (an all-ignored mean is 0/0, which the oracle gives
    as NaN, torch too)."""
    n, k = x.shape
    # each declared option on or off, evenly (a drawn set would favour small ones); at least one
    names = [name for name in CROSS_ENTROPY_OPTIONS if name in supported]
    flags = ctx.draw(st.lists(st.booleans(), min_size=len(names), max_size=len(names)), "options on")
    chosen = {name for name, on in zip(names, flags) if on} or {ctx.draw(st.sampled_from(names), "option")}
    options: dict = {}
    if "ignore_index" in chosen:
        ignore = ctx.draw(st.sampled_from([IGNORE_INDEX]) | st.integers(0, k - 1), "ignore_index")
        ignored = _per_row(ctx, n, st.booleans(), "ignored rows", lambda r, m: r.random(m) < r.choice([0.1, 0.5, 0.9]))
        ignored[0] = True  # at least one row ignored: without one the option is not exercised
        targets = np.where(ignored, ignore, targets).astype(targets.dtype)
        options["ignore_index"] = ignore
    if "label_smoothing" in chosen:
        options["label_smoothing"] = ctx.draw(st.sampled_from(SMOOTHING) | st.floats(0, 1), "label_smoothing")
    if "weight" in chosen:
        values = _per_row(ctx, k, st.sampled_from(WEIGHTS), "weight", lambda r, m: r.choice(WEIGHTS, m))
        options["weight"] = values.astype(ctx.np_dtype)
    if "reduction" in chosen:
        options["reduction"] = ctx.draw(st.sampled_from(REDUCTIONS), "reduction")
    if "z_loss" in chosen:
        options["z_loss"] = ctx.draw(st.sampled_from(Z_LOSS) | st.floats(1e-5, 1), "z_loss")
    if "softcap" in chosen:
        options["softcap"] = ctx.draw(st.sampled_from(SOFTCAPS) | st.floats(0.5, 100), "softcap")
    kept = targets != options.get("ignore_index", IGNORE_INDEX)
    if options.get("reduction") == "mean":
        if not kept.any() and n > 1:  # a row to average: the last one keeps a class id that is not ignored
            targets[-1] = (options["ignore_index"] + 1) % k if 0 <= options["ignore_index"] < k else 0
            kept = targets != options["ignore_index"]
        assume(kept.any())
        weight = options.get("weight")
        if weight is not None and not np.any(weight[targets[kept]].astype(np.float64)):
            weight[targets[kept][0]] = 1  # a positive denominator
    return targets, options


def describe(options: dict) -> str:
    return ", ".join(f"{k}=w" if k == "weight" else f"{k}={v!r}" for k, v in options.items())


def _saturated(exact: np.ndarray, dtype: str) -> np.ndarray:
    """Values that round past r_max replaced by the infinity they round to (exact_in_dtype's rule)."""
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(exact) >= dt.overflow_threshold(dtype), np.sign(exact) * np.inf, exact)


@prop("cross_entropy", needs_options=True)
def cross_entropy_options(ctx):
    """For a combination of the options the target declares, cross_entropy(x, t, **options)
    equals the exact loss within the bound: soft-capping x' = c tanh(x / c); per row
    (1 - e) w[t] (LSE(x') - x'[t]) + (e / K) sum_j w_j (LSE(x') - x'_j) + z LSE(x')^2, 0 at rows
    whose target is ignore_index; reduced by none, sum, or mean (the loss over the sum of the kept
    rows' target weights, the z-loss over their count).

    Skipped, with that reason, where the target declares no option: it is certified on the plain
    form. Logits are moderate or tied (the plain form's properties cover extreme ones)."""
    supported = declared(ctx)
    case = draw_case(ctx, regimes=OPTION_REGIMES)
    targets, options = draw_options(ctx, case.x, case.targets, supported)
    record = OPS[ctx.op]
    out = ctx.call(case.x, targets, **options)
    what = f"cross_entropy(x, t, {describe(options)})"
    exact = _saturated(record.oracle(case.x, targets, **options), ctx.dtype)
    assert_within(ctx, out, exact, record.bound(case.x, targets, dtype=ctx.dtype, **options), what)


@prop("cross_entropy", differentiable_only=True, needs_options=True)
def grad_cross_entropy_options(ctx):
    """For a combination of the options the target declares, the vector-Jacobian product with a
    random cotangent equals the closed form within its bound: per kept row
    (alpha s_j - beta_j) sech^2(x_j / c), alpha = g^c ((1 - e) w[t] + (e / K) sum_i w_i) + 2 z g^z LSE,
    beta_j = g^c ((1 - e) w[t] [j = t] + (e / K) w_j), s = softmax(x'), with the row's cotangents
    g^c, g^z (g / D and g / M for a mean); exactly 0 at ignored rows.

    Skipped, with that reason, where the target declares no option."""
    supported = declared(ctx)
    case = draw_grad_case(ctx, regimes=OPTION_REGIMES)
    targets, options = draw_options(ctx, case.x, case.targets, supported)
    shape = () if options.get("reduction") in ("mean", "sum") else (case.x.shape[0],)
    g = draw_cotangent(ctx, shape)
    record = OPS[ctx.op]
    grad = autodiff.vjp(ctx.adapter, ctx.op, (case.x, targets), options, g, ctx=ctx)
    exact = record.vjp(case.x, targets, g, **options)
    bound = record.vjp_bound(case.x, targets, g, ctx.dtype, **options)
    assert_grad_within(ctx, grad, exact, bound, f"vjp of cross_entropy(x, t, {describe(options)})")

