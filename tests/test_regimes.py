"""The regime battery's tables (suite/regimes.py): the same at every call, and each pattern is what
its name says, at the sizes it claims. That the properties catch each regime's defect and pass
sound designs is the zoo's job (tests/test_zoo.py, tests/test_stability.py)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from suite import dtypes as dt
from suite import regimes
from suite.sizes import CI_BUDGET


def _tables(name, op="softmax", dtype="float32", max_rows=None):
    return list(regimes.tables(regimes.REGIMES[name], op, dtype, budget=CI_BUDGET, max_rows=max_rows))


@pytest.mark.parametrize("name", list(regimes.REGIMES))
def test_tables_are_the_same_at_every_call(name):
    op = {"class_ids": "cross_entropy", "temperatures": "temperature_softmax"}.get(name, "softmax")
    first, second = _tables(name, op), _tables(name, op)
    assert len(first) == len(second) > 0
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.x, b.x)
        assert (a.targets is None and b.targets is None) or np.array_equal(a.targets, b.targets)
        assert a.temperature == b.temperature


def test_shapes_are_shared_by_the_regimes():
    """A backend that compiles per shape compiles each width's table shape once per dtype."""
    shapes = {name: {t.x.shape for t in _tables(name)} for name in ("masks", "ties", "binades")}
    assert shapes["masks"] == shapes["ties"] == shapes["binades"]
    assert {n for _, n in shapes["masks"]} == set(regimes.SHORT_WIDTHS + regimes.MEDIUM_WIDTHS + regimes.WIDE_WIDTHS)


def test_prefix_masks_cover_every_block_boundary():
    """Short and medium tables mask every 2^k - 1, 2^k, 2^k + 1 below n; a wide table's first row
    masks the largest power of two below n (a whole first block of 32768 at 65537 classes)."""
    for t in _tables("masks"):
        if t.pattern != "prefix":
            continue
        n = t.x.shape[1]
        masked = {int(np.argmax(np.isfinite(row))) for row in t.x}
        largest = 2 ** int(math.log2(n - 1))
        assert largest in masked, (n, sorted(masked)[:5])
        if t.size_class != "wide":
            boundaries = {m for k in range(1, int(math.log2(n - 1)) + 1) for m in (2**k - 1, 2**k, 2**k + 1) if m <= n - 1}
            assert boundaries <= masked, (n, sorted(boundaries - masked))
    assert all(np.isfinite(row).any() for t in _tables("masks") for row in t.x), "a row kept no finite entry"


def test_causal_rows_keep_a_triangle():
    t = next(t for t in _tables("masks") if t.pattern == "causal" and t.x.shape[1] == 8)
    kept = np.isfinite(t.x).sum(axis=1)
    np.testing.assert_array_equal(kept[:10], [1, 2, 3, 4, 5, 6, 7, 8, 1, 2])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_ties_are_exact_after_rounding(dtype):
    for t in _tables("ties", dtype=dtype):
        x = t.x.astype(np.float64)
        count = (x == x.max(axis=1, keepdims=True)).sum(axis=1)
        want = {"2-way tie": 2, "3-way tie": 3, "all equal": x.shape[1]}[t.pattern]
        assert np.all(count == min(want, x.shape[1])), (t.pattern, x.shape, np.unique(count))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_every_normal_binade_of_the_maximum_is_visited(dtype):
    low, high = regimes._binade_bounds(dtype)
    seen = set()
    for t in _tables("binades", dtype=dtype):
        if t.pattern == "max binade" and t.size_class == "short":
            top = np.abs(t.x.astype(np.float64)[:, 0])
            seen |= {int(math.floor(math.log2(v))) for v in top if v > 0}
    assert set(range(low, high + 1)) <= seen
    assert all(np.isfinite(t.x).all() for t in _tables("binades", dtype=dtype))


def test_class_ids_land_in_the_tail_groups():
    for t in _tables("class_ids", op="cross_entropy"):
        k = t.x.shape[1]
        group = regimes.TAIL_GROUPS[t.pattern]
        low = k - 1 if group is None else k - (k % group or group)
        assert t.targets.dtype == np.int64 and np.all((t.targets >= max(low, 0)) & (t.targets <= k - 1)), (t.pattern, k)


def test_tiles_reach_past_4096_rows():
    assert {t.x.shape for t in _tables("tiles")} == {(4097, 8), (4097, 33)}
    assert {t.x.shape for t in _tables("tiles", max_rows=4097)} == {(4097, 8)}


def test_temperatures_span_1e_minus_3_to_1e3_with_close_logits():
    tables = _tables("temperatures", op="temperature_softmax")
    assert {t.temperature for t in tables} == set(regimes.TEMPERATURES)
    for t in tables:
        gaps = np.ptp(t.x.astype(np.float64) / t.temperature, axis=1)
        assert np.median(gaps) < 30, (t.temperature, np.median(gaps))


def test_emulated_devices_get_capped_tables():
    capped = _tables("masks", max_rows=4097)
    assert max(t.x.shape[0] for t in capped) == regimes.EMULATED_ROWS


def test_detectable_fraction_is_the_miss_probability_inverted():
    for n in (1, 20, 5120, 10**6):
        p = regimes.detectable_fraction(n)
        assert (1 - p) ** n == pytest.approx(regimes.MISS_PROBABILITY, rel=1e-6)
    assert regimes.detectable_fraction(0) == 1.0


def test_tables_hold_no_value_past_the_dtype_range():
    for dtype in ("float16", "bfloat16"):
        for name in ("masks", "binades"):
            for t in _tables(name, dtype=dtype):
                finite = t.x[np.isfinite(t.x)].astype(np.float64)
                assert np.all(np.abs(finite) <= dt.largest(dtype))
                assert not np.any(np.isposinf(t.x)) and not np.any(np.isnan(t.x.astype(np.float64)))


def test_gradient_tables_reach_past_the_grid_limit():
    """The gradients regime has a 65537-row table (of 3 classes) at the ci budget, and its
    max-binade rows there visit every binade of bfloat16 (a jitted VJP gave NaN near r_max)."""
    tables = _tables("gradients", dtype="bfloat16")
    many = [t for t in tables if t.size_class == "many"]
    assert {t.x.shape for t in many} == {(65537, 3)}
    top = np.abs(next(t for t in many if t.pattern == "max binade").x.astype(np.float64)[:, 0])
    low, high = regimes._binade_bounds("bfloat16")
    assert {int(math.floor(math.log2(v))) for v in top} >= set(range(low, high + 1))
