"""Composable Hypothesis strategies for logits.

Values are drawn in float64 and rounded once to the target dtype, so every
dtype, bfloat16 included, shares one code path and the drawn array is exactly
what the implementation receives.

Regimes (``REGIMES``):
  moderate    values in [-10, 10]
  extreme     magnitudes up to the dtype's largest finite value; spreads far
              beyond exp's overflow threshold log(r_max)
  masked      -inf entries among finite entries of any magnitude (every row
              keeps at least one finite entry; see ``fully_masked_rows``)
  ties        few distinct values, so ties and identical rows are common
  offset      a tiny spread (a few units in the last place) on a huge offset
  mixed_rows  each row has its own scale, from 1e-3 to near r_max
Non-finite inputs (NaN, +inf, fully masked rows) come from their own
strategies because they are not valid input for the finiteness properties.
"""
from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from suite import dtypes as dt

REGIMES = ("moderate", "extreme", "masked", "ties", "offset", "mixed_rows")

# The first this many entries are drawn element by element, so Hypothesis can
# shrink every one of them; the rest of a large array comes from a seeded generator.
# 16 was tried (stop 26): shrinking in `run` fell from 347 to 193 worker-seconds, but at
# seed 0 34 (property, dtype) outcomes of the built-ins changed and torch-cpu softmax was
# certified, its float16 accuracy defect no longer drawn; the examples changed, not the power.
ELEMENTWISE_MAX = 64


# Sizes that matter to kernels: 1, powers of two and their neighbours (SIMD tails,
# block boundaries), and a few odd ones. A menu rather than every integer also
# keeps the number of distinct shapes small, which matters for backends that
# compile per shape (JAX's jit costs ~0.15 s of CPU per new shape).
CLASS_COUNTS = (1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 127, 128, 129, 255, 512, 1000, 4096)
BATCH_SIZES = (1, 2, 3, 4, 5, 8)


@st.composite
def shapes(draw, min_dims: int = 1, max_dims: int = 3, max_batch: int = 8, max_classes: int = 512):
    """1-D to 3-D shapes: batch dimensions from BATCH_SIZES, the class dimension from CLASS_COUNTS."""
    ndim = draw(st.integers(min_dims, max_dims))
    batch = [draw(st.sampled_from([b for b in BATCH_SIZES if b <= max_batch])) for _ in range(ndim - 1)]
    classes = draw(st.sampled_from([k for k in CLASS_COUNTS if k <= max_classes]))
    return tuple(batch + [classes])


@st.composite
def axes(draw, shape: tuple[int, ...]) -> int:
    """A valid axis for ``shape``, negative or not; the last axis is the common case."""
    ndim = len(shape)
    return draw(st.sampled_from([-1] + list(range(ndim)) + list(range(-ndim, -1))))


def _round(values: np.ndarray, dtype: str) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.asarray(values, dtype=np.float64).astype(dt.numpy_dtype(dtype))


def _elements(draw, n: int, strategy: st.SearchStrategy[float], seeded) -> np.ndarray:
    """n float64 values: the first ELEMENTWISE_MAX drawn one by one, the rest from a seeded generator.

    The element-wise prefix keeps shrinking effective: when Hypothesis shrinks the
    shape, the leading draws stay the same values, so a failing entry survives
    the shrink instead of being reinterpreted as a generator seed.
    """
    head = draw(st.lists(strategy, min_size=min(n, ELEMENTWISE_MAX), max_size=min(n, ELEMENTWISE_MAX)))
    if n <= ELEMENTWISE_MAX:
        return np.array(head, dtype=np.float64)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return np.concatenate([np.array(head, dtype=np.float64), seeded(rng, n - ELEMENTWISE_MAX)])


# A composite at module level: st.composite reads its function's source each time it is applied
# (2.5 ms), and cross-entropy draws targets in every example, shrink candidates included.
@st.composite
def integer_entries(draw, n: int, low: int, high: int, *, also: int | None = None) -> np.ndarray:
    """n int64 values in [low, high]: the first ELEMENTWISE_MAX drawn one by one (``also``, a value
    to draw on its own often, such as the top class id), the rest seeded (so 65536 rows of
    cross-entropy targets stay one small draw)."""
    element = st.integers(low, high) if also is None else st.integers(low, high) | st.just(also)
    head = draw(st.lists(element, min_size=min(n, ELEMENTWISE_MAX), max_size=min(n, ELEMENTWISE_MAX)))
    if n <= ELEMENTWISE_MAX:
        return np.array(head, dtype=np.int64)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return np.concatenate([np.array(head, dtype=np.int64), rng.integers(low, high + 1, n - ELEMENTWISE_MAX)])


def _extreme_scale(dtype: str) -> float:
    # Near, not at, r_max: rounding to the dtype must not turn a value into inf.
    return dt.largest(dtype) * 0.99


@st.composite
def logits(draw, dtype: str, shape: tuple[int, ...], regime: str = "moderate", axis: int = -1) -> np.ndarray:
    """An array of ``shape`` and ``dtype`` with finite entries (and -inf for 'masked').

    For 'masked', every row along ``axis`` keeps at least one finite entry.
    """
    n = math.prod(shape)
    big = _extreme_scale(dtype)
    if regime == "moderate":
        values = _elements(draw, n, st.floats(-10, 10), lambda r, k: r.uniform(-10, 10, k))
    elif regime == "extreme":
        threshold = dt.log_largest(dtype)
        special = st.sampled_from([big, -big, threshold, threshold + 1, -threshold, 2 * threshold, 0.0])
        values = _elements(
            draw,
            n,
            st.one_of(special, st.floats(-big, big)),
            lambda r, k: r.choice([-1.0, 1.0], k) * np.exp(r.uniform(0, np.log(big), k)),
        )
    elif regime == "masked":
        # offset too: masks over logits far from 0 (a finite "minus infinity" such as -1e9 standing
        # in for -inf then outweighs every real logit, which moderate logits never show)
        values = draw(logits(dtype, shape, draw(st.sampled_from(["moderate", "extreme", "offset"]))))
        values = values.astype(np.float64)
        mask = _draw_mask(draw, shape, axis)
        values = np.where(mask, -np.inf, values)
    elif regime == "ties":
        pool = draw(st.lists(st.floats(-100, 100), min_size=1, max_size=3))
        values = _elements(draw, n, st.sampled_from(pool), lambda r, k: r.choice(pool, k))
    elif regime == "offset":
        offset = draw(st.sampled_from([1e4, -1e4, 3e4, big / 4, -big / 4]))
        offset = float(_round(np.array(offset), dtype))
        ulp = float(np.spacing(_round(np.array(abs(offset)), dtype)))
        steps = _elements(draw, n, st.integers(-8, 8).map(float), lambda r, k: r.integers(-8, 9, k).astype(float))
        values = offset + steps * ulp
    elif regime == "mixed_rows":
        rows = max(1, n // shape[-1])
        menu = [1e-3, 1.0, 30.0, 1e3, big / 10]
        head = draw(st.lists(st.sampled_from(menu), min_size=min(rows, ELEMENTWISE_MAX), max_size=min(rows, ELEMENTWISE_MAX)))
        scales = head
        if rows > ELEMENTWISE_MAX:  # many rows: the rest of the scales seeded, as for the values
            rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
            scales = head + list(rng.choice(menu, rows - ELEMENTWISE_MAX))
        unit = _elements(draw, n, st.floats(-1, 1), lambda r, k: r.uniform(-1, 1, k))
        values = unit.reshape(rows, -1) * np.array(scales)[:, None]
    else:
        raise ValueError(f"unknown regime {regime!r}; choose one of {REGIMES}")
    return _round(np.reshape(values, shape), dtype)


def _draw_mask(draw, shape: tuple[int, ...], axis: int) -> np.ndarray:
    """A boolean mask that leaves at least one unmasked entry in every row along ``axis``."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    fraction = draw(st.sampled_from([0.1, 0.5, 0.9]))
    moved = tuple(np.moveaxis(np.empty(shape), axis, -1).shape)
    mask = rng.random(moved) < fraction
    keep = rng.integers(0, moved[-1], moved[:-1])
    np.put_along_axis(mask, keep[..., None], False, axis=-1)
    return np.moveaxis(mask, -1, axis)


@st.composite
def any_logits(draw, dtype: str, shape: tuple[int, ...], regimes: tuple[str, ...] = REGIMES, axis: int = -1) -> np.ndarray:
    """Finite (or masked) logits from any of ``regimes``."""
    regime = draw(st.sampled_from(regimes))
    return draw(logits(dtype, shape, regime, axis))


def keeps_rows_unmasked_along(x: np.ndarray, axis: int) -> bool:
    """True when every row along ``axis`` has at least one finite entry."""
    return bool(np.all(np.any(np.isfinite(x), axis=axis)))


@st.composite
def temperatures(draw, dtype: str, x: np.ndarray) -> float:
    """A temperature for which x / T stays inside the dtype's finite range.

    Powers of two divide exactly; any other T rounds x / T, a perturbation of up to about
    2u|x / T| that no implementation avoids and the bound admits exactly (suite/bounds.py):
    where it is wide the allowance is loose, but non-finite outputs and every invariant still
    bite (an XLA fusion returned NaN for float32 logits near r_max at T = 1.98)."""
    finite = np.abs(x[np.isfinite(x)].astype(np.float64))
    top = float(finite.max()) if finite.size else 1.0
    low = max(top / (dt.largest(dtype) * 0.5), 1e-3)
    # T itself must be a finite number of the dtype: implementations convert it
    highest = dt.largest(dtype) / 2
    powers = [2.0**k for k in range(-3, 128) if low <= 2.0**k <= highest][:14]
    options = [st.sampled_from(powers)]
    inexact_high = min(max(1e3, low * 1e3), highest)
    if low < inexact_high:
        options.append(st.floats(low, inexact_high))
    return draw(st.one_of(*options))
