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
    top = oracle.WIDE(dt.overflow_threshold(ctx.dtype))
    got_wide, expected_wide = np.asarray(got).astype(oracle.WIDE), np.asarray(expected).astype(oracle.WIDE)
    g = np.clip(got_wide, -top, top)
    e = np.clip(expected_wide, -top, top)
    b = np.broadcast_to(np.asarray(bound, dtype=oracle.WIDE), e.shape)
    if g.shape != e.shape:
        ctx.fail(f"out.shape={g.shape}, but should be {e.shape} [{what}]", e.shape, g.shape)
    with np.errstate(all="ignore"):
        close = (g == e) | (np.abs(g - e) <= b) | (np.isnan(g) & np.isnan(e))
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


def assert_true(ctx, condition: np.ndarray, got: np.ndarray, message: str) -> None:
    """Every entry of ``condition`` holds; otherwise name the first entry that does not."""
    condition = np.asarray(condition)
    if not np.all(condition):
        flat = int(np.argmin(condition.ravel()))
        idx = index_label(flat, condition.shape)
        value = np.asarray(got).ravel()[flat] if np.size(got) == condition.size else got
        ctx.fail(f"out[{idx}]={dt.plain_number(value)}: {message}", got=np.asarray(got))
