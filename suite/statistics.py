"""Goodness-of-fit for samplers: the test, its false-alarm budget, its power, its sample sizes.

The design (docs/samplers.md has the numbers and how they were measured):

* Test. Pearson's chi-square on the category counts against the law p =
  softmax(logits) computed in float64 from the logits as given. Categories of
  probability 0 (-inf logits) are not cells: a single draw there is a failure,
  with no false-alarm rate at all. Cells whose expected count N p_i is below
  ``E_MIN`` are pooled (smallest first, into groups of expected count >= E_MIN),
  so that every cell the statistic sees has a large expected count and the
  chi-square law with (cells - 1) degrees of freedom is an accurate null.
* False alarms. A certification (one op, every dtype) runs at most
  ``TESTS_PER_CERTIFICATION`` statistical decisions. Each is made at
  ``ALPHA_TEST = NOMINAL_FAMILY_ALPHA / TESTS_PER_CERTIFICATION`` (Bonferroni),
  so the family-wise false-alarm rate is <= NOMINAL_FAMILY_ALPHA = 1e-7: a
  factor 10 below the required 1e-6, kept as margin for the error of the
  chi-square approximation in the far tail (measured in docs/samplers.md).
* Power. An alternative q with total variation TV(p, q) = delta on the pooled
  cells has chi-square divergence sum (q - p)^2 / p >= (2 delta)^2 (Cauchy-
  Schwarz), so Pearson's statistic is asymptotically noncentral chi-square with
  noncentrality lambda >= 4 N delta^2. ``required_samples`` picks the smallest N
  (rounded up to a multiple of 10^4) with P(ncx2(df, 4 N delta^2) > crit) >= POWER.
* Determinism. The seeds a battery passes to the sampler are derived from a
  fixed base (``test_seed``), so a given implementation gets the same verdict
  on every run; the calibration script varies the base.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np


def _scipy_stats():
    """scipy.stats, imported on first use: it costs about a second, and a worker that certifies
    a deterministic op never needs it."""
    from scipy import stats

    return stats


REQUIRED_FAMILY_ALPHA = 1e-6  # the bound, per certification
NOMINAL_FAMILY_ALPHA = 1e-7  # what the Bonferroni split is made from (10x margin)
# Most statistical decisions one certification (one op, up to 4 dtypes) can make:
# 4 dtypes x 6 decisions per dtype (see suite/properties/samplers.py, TESTS_PER_DTYPE).
MAX_DTYPES = 4
MAX_TESTS_PER_DTYPE = 6
TESTS_PER_CERTIFICATION = MAX_DTYPES * MAX_TESTS_PER_DTYPE
ALPHA_TEST = NOMINAL_FAMILY_ALPHA / TESTS_PER_CERTIFICATION

DELTA = 0.01  # total-variation bias the test must detect
POWER = 0.99  # with at least this probability
E_MIN = 100.0  # smallest expected count of a cell after pooling
BASE_SEED = 20_260_101  # the certification's fixed base; calibration uses others


def test_seed(base: int, *labels) -> int:
    """A sampler seed in [0, 2**31) from the base and labels (property, dtype, vector, chunk)."""
    text = "/".join(str(x) for x in (base,) + labels)
    return zlib.crc32(text.encode()) & 0x7FFFFFFF


def law(logits) -> np.ndarray:
    """softmax(logits) in float64 from the logits as given (any float dtype, -inf allowed)."""
    x = np.asarray(logits).astype(np.float64)
    m = np.max(x)
    e = np.exp(x - m)
    return e / np.sum(e)


def pool(p: np.ndarray, n: int, e_min: float = E_MIN) -> np.ndarray:
    """Group index per category (-1 for p == 0): cells with n p < e_min pooled, smallest first.

    Walking up from the smallest probability, small cells are gathered into a
    group until its expected count reaches e_min; a remainder that never does is
    merged into the last group formed (or into the smallest large cell).
    """
    p = np.asarray(p, dtype=np.float64)
    groups = np.full(p.shape, -1, dtype=np.int64)
    order = [i for i in np.argsort(p, kind="stable") if p[i] > 0]
    next_group = 0
    pending: list[int] = []
    pending_mass = 0.0
    last_small_group = -1
    for i in order:
        if n * p[i] >= e_min and not pending:
            groups[i] = next_group
            next_group += 1
            continue
        pending.append(i)
        pending_mass += p[i]
        if n * pending_mass >= e_min:
            groups[pending] = next_group
            last_small_group = next_group
            next_group += 1
            pending, pending_mass = [], 0.0
    if pending:
        if last_small_group >= 0:
            groups[pending] = last_small_group
        else:  # everything is small: one cell (df 0), or join the smallest large cell
            large = [i for i in order if groups[i] >= 0]
            groups[pending] = groups[large[0]] if large else next_group
    # renumber 0..m-1 in order of first appearance by category index
    _, inverse = np.unique(groups[groups >= 0], return_inverse=True)
    out = np.full(p.shape, -1, dtype=np.int64)
    out[groups >= 0] = inverse
    return out


def grouped(values: np.ndarray, groups: np.ndarray) -> np.ndarray:
    m = int(groups.max()) + 1 if np.any(groups >= 0) else 0
    keep = groups >= 0
    return np.bincount(groups[keep], weights=np.asarray(values, dtype=np.float64)[keep], minlength=m)


def critical_value(df: int, alpha: float = ALPHA_TEST) -> float:
    return float(_scipy_stats().chi2.isf(alpha, df))


def worst_case_power(n: int, p: np.ndarray, delta: float = DELTA, alpha: float = ALPHA_TEST) -> float:
    """Asymptotic power against any q with TV(p, q) >= delta on the pooled cells: lambda = 4 n delta^2."""
    df = int(pool(p, n).max())
    if df < 1:
        return 0.0
    return float(_scipy_stats().ncx2.sf(critical_value(df, alpha), df, 4 * n * delta**2))


def power_against(n: int, p: np.ndarray, q: np.ndarray, alpha: float = ALPHA_TEST) -> float:
    """Asymptotic power against the specific law q: lambda = n sum_cells (q - p)^2 / p."""
    groups = pool(p, n)
    pg, qg = grouped(p, groups), grouped(q, groups)
    df = len(pg) - 1
    lam = n * float(np.sum((qg - pg) ** 2 / pg))
    return float(_scipy_stats().ncx2.sf(critical_value(df, alpha), df, lam))


def required_samples(p: np.ndarray, delta: float = DELTA, power: float = POWER, alpha: float = ALPHA_TEST, step: int = 10_000) -> int:
    """Smallest n (a multiple of ``step``) whose worst-case power at TV delta is >= power."""
    n = step
    for _ in range(64):  # fixed point: pooling depends on n, n on the pooled df
        df = max(1, int(pool(p, n).max()))
        crit = critical_value(df, alpha)
        lo, hi = 0.0, 10.0 * (crit + df) + 100.0
        for _ in range(200):  # smallest lambda with ncx2.sf(crit, df, lambda) >= power
            mid = 0.5 * (lo + hi)
            if _scipy_stats().ncx2.sf(crit, df, mid) >= power:
                hi = mid
            else:
                lo = mid
        needed = max(step, int(math.ceil(hi / (4 * delta**2) / step)) * step)
        if needed == n:
            break
        n = needed
    while worst_case_power(n, p, delta, alpha) < power:  # pooling can change at the final n
        n += step
    return n


@dataclass
class GofResult:
    """One goodness-of-fit decision, with what a failure message needs."""

    n: int
    df: int
    statistic: float
    p_value: float
    alpha: float
    masked_hits: dict  # category -> count, for categories of probability 0
    rows: list  # (cells, expected freq, observed freq, z) of the worst cells

    @property
    def rejected(self) -> bool:
        return bool(self.masked_hits) or self.p_value < self.alpha

    def describe(self) -> str:
        if self.masked_hits:
            hits = ", ".join(f"category {k}: {v} draws" for k, v in sorted(self.masked_hits.items()))
            return f"drew categories of probability 0 (-inf logits): {hits} in {self.n} samples"
        cells = "; ".join(f"{c}: expected {e:.6g}, observed {o:.6g} (z={z:+.1f})" for c, e, o, z in self.rows)
        return (
            f"frequencies do not match softmax(logits): chi-square={self.statistic:.1f} on df={self.df}, "
            f"p={self.p_value:.3g} < alpha={self.alpha:.3g} (n={self.n}); worst cells: {cells}"
        )


def gof_test(counts: np.ndarray, p: np.ndarray, alpha: float = ALPHA_TEST, worst: int = 4) -> GofResult:
    """Pearson chi-square of category counts against p, with pooling; masked hits fail outright."""
    counts = np.asarray(counts, dtype=np.float64)
    n = int(round(counts.sum()))
    zero = p <= 0
    masked = {int(i): int(counts[i]) for i in np.flatnonzero(zero & (counts > 0))}
    groups = pool(p, n)
    expected = n * grouped(p, groups)
    observed = grouped(counts, groups)
    df = len(expected) - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (observed - expected) / np.sqrt(expected)
    statistic = float(np.sum(z**2)) if df >= 1 else 0.0
    p_value = float(_scipy_stats().chi2.sf(statistic, df)) if df >= 1 else 1.0
    rows = []
    for g in np.argsort(-np.abs(z))[:worst]:
        members = np.flatnonzero(groups == g)
        shown = ", ".join(str(int(m)) for m in members[:6]) + (", ..." if len(members) > 6 else "")
        label = f"[{shown}]" if len(members) == 1 else f"pool[{shown}]"
        rows.append((label, expected[g] / n, observed[g] / n, float(z[g])))
    return GofResult(n, df, statistic, p_value, alpha, masked, rows)


def planted_bias(p: np.ndarray, delta: float = DELTA) -> np.ndarray:
    """A law q with TV(p, q) = delta (when reachable) shaped to be hard to detect.

    The categories are split, greedily by size, into A and B with p(A) as close to
    1/2 as the sizes allow; q = p (1 + delta / p(A)) on A and p (1 - delta / p(B)) on B.
    Then TV = delta and the chi-square divergence is delta^2 (1/p(A) + 1/p(B)), whose
    minimum 4 delta^2 (the worst case of the power calculation) is reached at p(A) = 1/2.
    """
    p = np.asarray(p, dtype=np.float64)
    in_a = np.zeros(p.shape, dtype=bool)
    mass = 0.0
    for i in np.argsort(-p, kind="stable"):
        if p[i] > 0 and abs(mass + p[i] - 0.5) < abs(mass - 0.5):
            in_a[i] = True
            mass += p[i]
    pa, pb = p[in_a].sum(), p[~in_a].sum()
    q = np.where(in_a, p * (1 + delta / pa), p * (1 - delta / pb))
    return q / q.sum()
