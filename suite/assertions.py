"""Comparisons that fail with a readable message: which entry, what it was, what it should be."""
from __future__ import annotations

import numpy as np

from suite import dtypes as dt
from suite import oracle


def index_label(flat: int, shape: tuple[int, ...]) -> str:
    """The index of flat position ``flat`` in an array of ``shape``, as the messages print it: "(0, 3)"."""
    return str(tuple(int(i) for i in np.unravel_index(flat, shape))) if shape else "()"


def assert_within(ctx, got: np.ndarray, expected: np.ndarray, bound: np.ndarray, what: str) -> None:
    """|got - expected| <= bound everywhere; NaN where and only where expected is NaN.

    Both sides are first saturated at the dtype's overflow threshold, so that an
    exact value just inside the range may come back as inf when its allowed
    error reaches past the threshold, and -inf must still meet -inf.
    ``what`` names the expression being checked, e.g. ``softmax(x)``.
    """
    wide = comparison_type(ctx.dtype)
    got_wide, expected_wide = np.asarray(got).astype(wide), np.asarray(expected).astype(wide)
    if got_wide.shape != expected_wide.shape:
        ctx.fail(f"out.shape={got_wide.shape}, but should be {expected_wide.shape} [{what}]", expected_wide.shape, got_wide.shape)
    close, g, e, b = _closeness(got_wide, expected_wide, bound, ctx.dtype)
    if not np.all(close):
        with np.errstate(all="ignore"):
            excess = np.where(close, -np.inf, np.nan_to_num(np.abs(g - e) - b, nan=np.inf, posinf=np.inf))
        flat = int(np.argmax(excess))
        idx = index_label(flat, e.shape)
        # the headline shows what was returned and the exact value, not their saturated stand-ins
        # (a returned -inf is -inf, not -65520.0)
        ctx.fail(
            f"out[{idx}]={dt.plain_number(got_wide.flat[flat])}, but should be {dt.plain_number(expected_wide.flat[flat])} "
            f"(allowed error {float(b.flat[flat]):.3g}) [{what}]",
            expected=np.asarray(expected, dtype=np.float64),
            got=np.asarray(got),
        )


def within(got: np.ndarray, expected: np.ndarray, bound: np.ndarray, dtype: str) -> np.ndarray:
    """Per entry, what :func:`assert_within` checks: |got - expected| <= bound after saturation,
    or both NaN (shapes must match)."""
    wide = comparison_type(dtype)
    return _closeness(np.asarray(got).astype(wide), np.asarray(expected).astype(wide), bound, dtype)[0]


def comparison_type(dtype: str):
    """Where |got - expected| <= bound is decided: long double for float64 outputs (whose overflow
    threshold and exact values lie beyond float64), float64 for the narrower ones, whose outputs,
    threshold and oracle (working precision 2^-53, suite/oracle.py) float64 holds, at a quarter of
    the cost of x87 arithmetic."""
    return oracle.WIDE if dtype == "float64" else np.float64


def _closeness(got_wide, expected_wide, bound, dtype: str):
    wide = got_wide.dtype.type
    top = wide(dt.overflow_threshold(dtype))
    g = np.clip(got_wide, -top, top)
    e = np.clip(expected_wide, -top, top)
    b = np.broadcast_to(np.asarray(bound, dtype=wide), e.shape)
    with np.errstate(all="ignore"):
        close = (g == e) | (np.abs(g - e) <= b) | (np.isnan(g) & np.isnan(e))
    return close, g, e, b


def assert_true(ctx, condition: np.ndarray, got: np.ndarray, message: str) -> None:
    """Every entry of ``condition`` holds; otherwise name the first entry that does not."""
    condition = np.asarray(condition)
    if not np.all(condition):
        flat = int(np.argmin(condition.ravel()))
        idx = index_label(flat, condition.shape)
        value = np.asarray(got).ravel()[flat] if np.size(got) == condition.size else got
        ctx.fail(f"out[{idx}]={dt.plain_number(value)}: {message}", got=np.asarray(got))
