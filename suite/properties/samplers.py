"""Properties of the samplers gumbel_max and gumbel_softmax, and the Gumbel-max law of temperature_softmax.

The contract: gumbel_max(logits, n, seed) returns n integers, each distributed as
softmax(logits); gumbel_softmax(logits, tau, n, seed) returns n rows
softmax((logits + G) / tau), G iid standard Gumbel, and with hard=True the one-hot
of each row's argmax. The facts used (Gumbel 1954; Maddison, Tarlow & Minka 2014;
Jang, Gu & Poole 2017): P(argmax_i (x_i + G_i) = k) = softmax(x)_k, and
softmax((x + G) / tau) tends to the one-hot of that argmax as tau -> 0.

Two kinds of property:

* hypothesis properties with no false alarms at all (shapes, dtypes, ranges,
  masked categories, seeding; a coincidence they could trip on has probability
  below 2^-250);
* fixed statistical batteries (kind FIXED): goodness-of-fit of the sample
  frequencies by :mod:`suite.statistics`. Each battery makes at most
  ``MAX_TESTS_PER_DTYPE`` decisions per dtype, each at ALPHA_TEST, so that a whole
  certification stays under the family-wise false-alarm budget; the sample sizes
  give power >= 0.99 against a total-variation bias of 0.01. See docs/samplers.md.
"""
from __future__ import annotations

import functools

import numpy as np
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from suite import dtypes as dt
from suite import statistics as stat
from suite import strategies as sst
from suite.properties import FIXED, prop
from suite.runner import shown_array

# ---------------------------------------------------------------------------
# The logit vectors of the distribution batteries (float64; cast to the dtype under test,
# and the law is softmax of the cast logits).


def _zipf(k: int, s: float, seed: int) -> np.ndarray:
    ranks = np.random.default_rng(seed).permutation(k) + 1
    return np.round(-s * np.log(ranks), 3)


VECTORS: dict[str, np.ndarray] = {
    # one category holds 0.97 of the mass: a bias must show in the thin others
    "peaked": np.array([6.0, 1.5, 1.0, 0.5, 0.0, 0.0, -0.5, -1.0, -2.0, -3.0]),
    # uniform over 16
    "flat": np.zeros(16),
    # probabilities from 1 down to e^-16: tiny cells, pooled
    "wide": np.linspace(0.0, -16.0, 24),
    # -inf logits at the ends and inside: never drawn
    "masked": np.array([-np.inf, 1.0, 0.5, -np.inf, 0.0, -0.5, -np.inf, 2.0, 1.5, -1.0, -2.0, -np.inf]),
}
# large K: Zipf(2) over a fixed permutation (mass spread over many indices, tail pooled);
# 128, not thousands, to keep N x K (the cost of one Gumbel-max battery) near 5e7
LARGE_K = 128
# temperature_softmax: vectors and temperatures of the Gumbel-max law check
TEMPERATURE_CASES = (("peaked", 0.5), ("peaked", 2.5), ("wide", 0.5), ("wide", 2.5), ("masked", 0.5), ("masked", 2.5))
LOW_TAU = 1e-3
# The argmax of softmax((x + G) / tau) does not depend on tau > 0, so the argmax battery runs
# at a tau other than 1: at tau = 1 a sampler that forgets to divide G by tau (softmax(x / tau + G))
# is exactly right, at tau = 1/2 its argmax follows softmax(2 x).
BATTERY_TAU = 0.5

# Statistical decisions per dtype of each op's certification (the Bonferroni count).
TESTS_PER_DTYPE = {
    "gumbel_max": len(VECTORS) + 1,  # distribution battery
    "gumbel_softmax": len(VECTORS) + 1 + 1,  # argmax battery + low-temperature check
    "temperature_softmax": len(TEMPERATURE_CASES),  # Gumbel-max law battery
}
assert max(TESTS_PER_DTYPE.values()) <= stat.MAX_TESTS_PER_DTYPE


def battery_vectors(op: str) -> dict[str, np.ndarray]:
    vectors = dict(VECTORS)
    vectors[f"large_k{LARGE_K}"] = _zipf(LARGE_K, 2.0, seed=LARGE_K)
    return vectors


@functools.lru_cache(maxsize=None)
def _design(op: str, name: str, dtype: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(logits in dtype, their law in float64, sample count from the power calculation)."""
    x = battery_vectors(op)[name].astype(dt.numpy_dtype(dtype))
    p = stat.law(x)
    return x, p, stat.required_samples(p)


# ---------------------------------------------------------------------------
# Drawing and counting


def _count(samples: np.ndarray, k: int, where: str) -> np.ndarray:
    """Category counts of integer samples; out-of-range or non-integer samples are a failure message."""
    if samples.dtype.kind not in "iu":
        raise _Bad(f"samples have dtype {samples.dtype}, not an integer dtype [{where}]")
    if samples.size and (samples.min() < 0 or samples.max() >= k):
        bad = samples[(samples < 0) | (samples >= k)]
        raise _Bad(f"sample {int(bad[0])} is outside [0, {k}) ({bad.size} such samples) [{where}]")
    return np.bincount(samples.astype(np.int64), minlength=k)


def soft_argmax(y: np.ndarray, seed: int) -> np.ndarray:
    """Row argmax of soft samples, ties (from rounding to a short dtype) broken uniformly at random."""
    first = np.argmax(y, axis=-1)
    top = np.take_along_axis(y, first[..., None], axis=-1)
    if np.count_nonzero(y == top) == first.size:
        # No row has a tie (the common case outside 16 bits): the noise below could not change
        # any row's argmax, so it is not drawn (a quarter of a battery's time went to it).
        return first
    y = y.astype(np.float64)
    top = np.max(y, axis=-1, keepdims=True)
    noise = np.random.default_rng(seed).random(y.shape)
    return np.argmax(np.where(y == top, noise, -1.0), axis=-1)


class _Bad(Exception):
    pass


def draw_counts(call, op: str, x: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Counts of n draws from the implementation: gumbel_max samples, or gumbel_softmax soft argmaxes.

    ``call(*args, **kwargs)`` runs the op on NumPy arguments and returns NumPy (a Context's call,
    or the calibration script's). gumbel_softmax is drawn in chunks of at most 2^22 entries,
    each with its own seed (a correct sampler's different seeds give independent draws)."""
    k = x.shape[-1]
    if op == "gumbel_max":
        out = call(x, n, seed)
        if out.shape != (n,):
            raise _Bad(f"out.shape={out.shape}, but should be ({n},) [gumbel_max(logits, {n}, {seed})]")
        return _count(out, k, f"gumbel_max(logits, {n}, {seed})")
    rows = max(1, (1 << 22) // k)
    counts = np.zeros(k, dtype=np.int64)
    for i, start in enumerate(range(0, n, rows)):
        m = min(rows, n - start)
        chunk_seed = seed if i == 0 else stat.test_seed(seed, "chunk", i)
        y = call(x, BATTERY_TAU, m, chunk_seed)
        where = f"gumbel_softmax(logits, {BATTERY_TAU}, {m}, {chunk_seed})"
        if y.shape != (m, k):
            raise _Bad(f"out.shape={y.shape}, but should be {(m, k)} [{where}]")
        finite = np.all(np.isfinite(y.astype(np.float64)), axis=-1)
        if not np.all(finite):
            raise _Bad(f"row {int(np.argmin(finite))} is not finite: {y[int(np.argmin(finite))]!r} [{where}]")
        counts += np.bincount(soft_argmax(y, stat.test_seed(chunk_seed, "ties")), minlength=k)
    return counts


def distribution_battery(call, op: str, dtype: str, base: int = stat.BASE_SEED, stop_on_failure: bool = False):
    """[(vector name, logits, seed, GofResult)] for every battery vector, seeds derived from ``base``."""
    results = []
    for name in battery_vectors(op):
        x, p, n = _design(op, name, dtype)
        seed = stat.test_seed(base, op, dtype, name)
        result = stat.gof_test(draw_counts(call, op, x, n, seed), p)
        results.append((name, x, seed, result))
        if stop_on_failure and result.rejected:
            break
    return results


# ---------------------------------------------------------------------------
# Helpers for properties


def _show(ctx, label: str, value) -> None:
    """Put an input in the failure report (fixed batteries have no hypothesis draws)."""
    ctx._record["draws"][label] = shown_array(value) if isinstance(value, np.ndarray) else repr(value)


def _native_call(ctx):
    def call(*args, **kwargs):
        return ctx.call(*args, **kwargs)

    return call


# Shapes come from short lists: a jitted sampler compiles once per (K, n), and a fresh
# shape per example would spend the budget in the compiler.
SHAPE_K = (1, 2, 3, 10, 33)
SHAPE_N = (1, 7, 64)


@st.composite
def _sampler_logits(draw, dtype: str):
    """(K,) logits: moderate values, sometimes with -inf entries (at least one finite)."""
    k = draw(st.sampled_from(SHAPE_K))
    x = draw(sst.logits(dtype, (k,), "moderate")).astype(np.float64)
    if k > 1 and draw(st.booleans()):
        mask = np.array(draw(st.lists(st.booleans(), min_size=k, max_size=k)))
        mask[draw(st.integers(0, k - 1))] = False
        x = np.where(mask, -np.inf, x)
    return x.astype(dt.numpy_dtype(dtype))


def _run_battery(ctx, what: str) -> None:
    try:
        results = distribution_battery(_native_call(ctx), ctx.op, ctx.dtype, stop_on_failure=True)
    except _Bad as bad:
        ctx.fail(str(bad))
    worst = min(r.p_value for _, _, _, r in results)
    ctx.note_stat("neg_log10_min_p_value", -np.log10(max(worst, 1e-300)))
    name, x, seed, result = results[-1]
    if result.rejected:
        _show(ctx, "vector", name)
        _show(ctx, "logits", x)
        _show(ctx, "num_samples", result.n)
        _show(ctx, "seed", seed)
        expected = "; ".join(f"{c}: {e:.6g}" for c, e, _, _ in result.rows)
        got = "; ".join(f"{c}: {o:.6g}" for c, _, o, _ in result.rows)
        ctx.fail(f"{what} on the {name!r} logits: {result.describe()}", expected, got)


# ---------------------------------------------------------------------------
# gumbel_max


@prop("gumbel_max")
def gumbel_max_contract(ctx):
    """gumbel_max(logits, n, seed) has shape (n,) and an integer dtype, every sample is in
    [0, K), and a category whose logit is -inf (probability 0) is never drawn."""
    x = ctx.draw(_sampler_logits(ctx.dtype), "logits")
    n = ctx.draw(st.sampled_from(SHAPE_N + (300,)), "num_samples")
    seed = ctx.draw(st.integers(0, 2**31 - 1), "seed")
    out = ctx.call(x, n, seed)
    if out.shape != (n,):
        ctx.fail(f"out.shape={out.shape}, but should be ({n},) [gumbel_max(logits, {n}, {seed})]", (n,), out.shape)
    if out.dtype.kind not in "iu":
        ctx.fail(f"out.dtype={out.dtype}, but should be an integer dtype [gumbel_max]", "integer", str(out.dtype))
    k = x.shape[0]
    bad = (out < 0) | (out >= k)
    if np.any(bad):
        ctx.fail(f"out[{int(np.argmax(bad))}]={int(out[bad][0])} is outside [0, {k}) [gumbel_max]")
    masked = np.isneginf(x.astype(np.float64))[out]
    if np.any(masked):
        i = int(np.argmax(masked))
        ctx.fail(f"out[{i}]={int(out[i])}, a category with logit -inf (probability 0) [gumbel_max]")


def _check_seeding(ctx, draw_once) -> None:
    """Same seed: identical output. Different seeds: different output (flat logits, K=16, 64 draws:
    a correct sampler repeats itself with probability 16^-64 = 2^-256)."""
    a = ctx.draw(st.integers(0, 2**31 - 1), "seed")
    b = ctx.draw(st.integers(0, 2**31 - 1).filter(lambda s: s != a), "other_seed")
    first, again, other = draw_once(a), draw_once(a), draw_once(b)
    if not np.array_equal(first, again, equal_nan=True):
        ctx.fail(f"two calls with seed={a} gave different samples [{ctx.op}]", first, again)
    if np.array_equal(first, other, equal_nan=True):
        ctx.fail(f"seeds {a} and {b} gave identical samples [{ctx.op}]", "different samples", other)


@prop("gumbel_max")
def gumbel_max_seeded(ctx):
    """gumbel_max is a function of its seed: the same seed gives the same samples, and two
    different seeds give different samples (flat logits, K = 16, n = 64; a correct sampler
    coincides with probability 16^-64)."""
    x = np.zeros(16, dtype=ctx.np_dtype)
    _check_seeding(ctx, lambda s: ctx.call(x, 64, s))


@prop("gumbel_max", kind=FIXED)
def gumbel_max_distribution(ctx):
    """The sample frequencies of gumbel_max(logits, N, seed) match softmax(logits): Pearson's
    chi-square with pooling, at alpha = 1e-7 / 24 per test, on the peaked, flat, wide, masked
    and large-K logit vectors, N from the power calculation (power >= 0.99 at TV = 0.01).

    See docs/samplers.md for the design and its calibration."""
    _run_battery(ctx, "gumbel_max frequencies")


# ---------------------------------------------------------------------------
# gumbel_softmax


def _row_sum_tolerance(k: int, u: float) -> float:
    # rounding each of K entries (relative u) and summing them: generous, far below any real bug
    return 4 * (k + 2) * u


@prop("gumbel_softmax")
def gumbel_softmax_contract(ctx):
    """gumbel_softmax(logits, tau, n, seed) has shape (n, K) and the logits' dtype; each row lies
    on the simplex (entries in [0, 1], sum 1 within 4 (K + 2) u) with 0 where the logit is -inf.
    With hard=True and the same seed each row is one-hot (zeros exactly, the hot entry 1 within
    4u) at an argmax of the soft row, never at a -inf logit."""
    x = ctx.draw(_sampler_logits(ctx.dtype), "logits")
    tau = ctx.draw(st.sampled_from([0.1, 0.5, 1.0, 2.0]), "tau")
    n = ctx.draw(st.sampled_from(SHAPE_N), "num_samples")
    seed = ctx.draw(st.integers(0, 2**31 - 1), "seed")
    k = x.shape[0]
    where = f"gumbel_softmax(logits, {tau}, {n}, {seed})"
    soft = ctx.call(x, tau, n, seed)
    if soft.shape != (n, k):
        ctx.fail(f"out.shape={soft.shape}, but should be {(n, k)} [{where}]", (n, k), soft.shape)
    if soft.dtype != ctx.np_dtype:
        ctx.fail(f"out.dtype={dt.dtype_name(soft.dtype)}, but should be {ctx.dtype} [{where}]", ctx.dtype, dt.dtype_name(soft.dtype))
    y = soft.astype(np.float64)
    bad = ~((y >= 0) & (y <= 1))
    if np.any(bad):
        i = np.unravel_index(int(np.argmax(bad)), y.shape)
        ctx.fail(f"out[{i}]={y[i]!r} is not in [0, 1] [{where}]")
    sums = y.sum(axis=-1)
    tol = _row_sum_tolerance(k, ctx.u)
    if np.any(np.abs(sums - 1) > tol):
        i = int(np.argmax(np.abs(sums - 1)))
        ctx.fail(f"row {i} sums to {sums[i]!r}, not 1 within {tol:.3g} [{where}]", 1.0, sums[i])
    masked = np.isneginf(x.astype(np.float64))
    if np.any(y[:, masked] != 0):
        ctx.fail(f"a category with logit -inf has nonzero probability in a soft sample [{where}]")
    where_hard = f"gumbel_softmax(logits, {tau}, {n}, {seed}, hard=True)"
    hard = ctx.call(x, tau, n, seed, hard=True)
    if hard.shape != (n, k) or hard.dtype != ctx.np_dtype:
        ctx.fail(f"hard sample has shape {hard.shape} and dtype {dt.dtype_name(hard.dtype)}, but should be {(n, k)} and {ctx.dtype} [{where_hard}]")
    h = hard.astype(np.float64)
    hot = np.argmax(h, axis=-1)
    rows = np.arange(n)
    others = h.copy()
    others[rows, hot] = 0
    if np.any(others != 0) or np.any(np.abs(h[rows, hot] - 1) > 4 * ctx.u):
        i = int(np.argmax(np.any(others != 0, axis=-1) | (np.abs(h[rows, hot] - 1) > 4 * ctx.u)))
        ctx.fail(f"hard row {i} is not one-hot: {h[i].tolist()} [{where_hard}]")
    not_top = y[rows, hot] != y.max(axis=-1)
    if np.any(not_top):
        i = int(np.argmax(not_top))
        ctx.fail(
            f"hard row {i} is hot at {int(hot[i])}, but the soft sample's argmax (same seed) is {int(np.argmax(y[i]))} [{where_hard}]",
            int(np.argmax(y[i])),
            int(hot[i]),
        )


@prop("gumbel_softmax")
def gumbel_softmax_seeded(ctx):
    """gumbel_softmax is a function of its seed: the same seed gives the same samples, and two
    different seeds give different samples (flat logits, K = 16, n = 64, tau = 1)."""
    x = np.zeros(16, dtype=ctx.np_dtype)
    _check_seeding(ctx, lambda s: ctx.call(x, 1.0, 64, s))


@prop("gumbel_softmax", kind=FIXED)
def gumbel_softmax_argmax_distribution(ctx):
    """The argmax of a soft sample softmax((logits + G) / tau) is distributed as softmax(logits):
    the battery of gumbel_max_distribution on the row argmaxes (tau = 1/2, where a tau misapplied
    to the noise shows; ties from rounding to the dtype broken uniformly at random), same alpha,
    same power."""
    _run_battery(ctx, "gumbel_softmax argmax frequencies")


@prop("gumbel_softmax", kind=FIXED)
def gumbel_softmax_low_temperature(ctx):
    """As tau -> 0 the soft samples tend to one-hot: at tau = 1e-3 the mean over n = 20000 samples
    of 1 - max_i y_i is at most K (K - 1) tau / 4 (since 1 - max y <= sum over pairs of
    exp(-|z_i - z_j| / tau), and the difference of two Gumbels has density <= 1/4) plus the
    Hoeffding slack sqrt(log(1/alpha) / (2 n)) plus 2 K u for rounding."""
    x = np.array([1.0, 0.5, 0.0, -0.5, 2.0, 0.0]).astype(ctx.np_dtype)
    k, n = x.shape[0], 20_000
    seed = stat.test_seed(stat.BASE_SEED, ctx.op, ctx.dtype, "low_tau")
    _show(ctx, "logits", x)
    _show(ctx, "tau", LOW_TAU)
    y = ctx.call(x, LOW_TAU, n, seed).astype(np.float64)
    if y.shape != (n, k) or not np.all(np.isfinite(y)):
        ctx.fail(f"gumbel_softmax(logits, {LOW_TAU}, {n}, {seed}) gave shape {y.shape} with non-finite entries or wrong shape")
    gap = float(np.mean(1 - y.max(axis=-1)))
    limit = k * (k - 1) * LOW_TAU / 4 + np.sqrt(np.log(1 / stat.ALPHA_TEST) / (2 * n)) + 2 * k * ctx.u
    ctx.note_stat("mean_one_minus_max_low_tau", gap)
    if gap > limit:
        ctx.fail(
            f"at tau={LOW_TAU} the soft samples are not near one-hot: mean(1 - max y) = {gap:.4g} > {limit:.4g} "
            f"(n={n}, seed={seed})",
            f"<= {limit:.4g}",
            f"{gap:.4g}",
        )


# ---------------------------------------------------------------------------
# temperature_softmax: the Gumbel-max law at the same temperature


def trusted_gumbel_max(z: np.ndarray, n: int, seed: int) -> np.ndarray:
    """The suite's own Gumbel-max in float64: argmax(z + G), G = -log Exp(1), chunked."""
    rng = np.random.default_rng(seed)
    z = z.astype(np.float64)
    out = np.empty(n, dtype=np.int64)
    rows = max(1, (1 << 22) // z.shape[-1])
    with np.errstate(all="ignore"):
        for start in range(0, n, rows):
            m = min(rows, n - start)
            out[start : start + m] = np.argmax(z - np.log(rng.standard_exponential((m, z.shape[-1]))), axis=-1)
    return out


@prop("temperature_softmax", kind=FIXED)
def temperature_gumbel_law(ctx):
    """temperature_softmax(x, T) is the law of Gumbel-max at temperature T: the frequencies of
    argmax(x / T + G) (the suite's own float64 Gumbel-max) match the implementation's
    temperature_softmax(x, T), by the chi-square test of the samplers (alpha = 1e-7 / 24, power
    0.99 at TV 0.01), for peaked, wide and masked x at T = 0.5 and 2.5.

    float32 and float64 only: a 16-bit temperature_softmax is legitimately off by a few u per
    entry (several percent in bfloat16), which the deterministic properties bound instead."""
    if ctx.dtype not in ("float32", "float64"):
        raise Unsatisfiable(f"the Gumbel-max law check runs in float32 and float64; {ctx.dtype} output rounding is at the test's resolution")
    for name, temperature in TEMPERATURE_CASES:
        x = VECTORS[name].astype(ctx.np_dtype)
        p_impl = ctx.call(x, temperature).astype(np.float64)
        where = f"temperature_softmax(x, {temperature})"
        if p_impl.shape != x.shape or not np.all(np.isfinite(p_impl)) or np.any(p_impl < 0) or p_impl.sum() <= 0:
            ctx.fail(f"{where} is not a probability vector: {p_impl.tolist()}")
        p_impl = p_impl / p_impl.sum()
        z = x.astype(np.float64) / temperature
        n = stat.required_samples(p_impl)
        seed = stat.test_seed(stat.BASE_SEED, ctx.op, ctx.dtype, name, temperature)
        samples = trusted_gumbel_max(z, n, seed)
        result = stat.gof_test(np.bincount(samples, minlength=x.shape[0]), p_impl)
        ctx.note_stat("neg_log10_min_p_value", -np.log10(max(result.p_value, 1e-300)))
        if result.rejected:
            _show(ctx, "x", x)
            _show(ctx, "temperature", temperature)
            _show(ctx, "num_samples", n)
            _show(ctx, "seed", seed)
            ctx.fail(
                f"Gumbel-max at T={temperature} on the {name!r} x disagrees with {where} taken as the law: "
                f"{result.describe().replace('softmax(logits)', 'temperature_softmax(x, T)')}"
            )
