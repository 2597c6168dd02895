"""The strategies generate what their names promise."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from suite import dtypes as dt
from suite import strategies as sst

DTYPE = st.sampled_from(dt.FLOAT_DTYPES)


@given(st.data())
def test_logits_have_the_requested_shape_and_dtype(data):
    dtype = data.draw(DTYPE, label="dtype")
    shape = data.draw(sst.shapes(), label="shape")
    regime = data.draw(st.sampled_from(sst.REGIMES), label="regime")
    x = data.draw(sst.logits(dtype, shape, regime), label="x")
    assert x.shape == shape and x.dtype == dt.numpy_dtype(dtype)
    assert not np.any(np.isnan(x.astype(np.float64))) and not np.any(np.isposinf(x.astype(np.float64)))


@given(st.data())
def test_masked_rows_keep_a_finite_entry_along_the_axis(data):
    dtype = data.draw(DTYPE, label="dtype")
    shape = data.draw(sst.shapes(min_dims=2), label="shape")
    axis = data.draw(sst.axes(shape), label="axis")
    x = data.draw(sst.logits(dtype, shape, "masked", axis), label="x")
    assert sst.keeps_rows_unmasked_along(x, axis)


@settings(max_examples=200)
@given(st.data())
def test_extreme_regime_reaches_past_the_overflow_threshold(data):
    """Over many draws, some extreme logits exceed log(r_max): exp would overflow."""
    dtype = data.draw(DTYPE, label="dtype")
    x = data.draw(sst.logits(dtype, (64,), "extreme"), label="x")
    assert np.all(np.isfinite(x.astype(np.float64)))
    assert np.max(np.abs(x.astype(np.float64))) > dt.log_largest(dtype)


@given(st.data())
def test_offset_rows_have_a_tiny_spread_on_a_huge_offset(data):
    dtype = data.draw(DTYPE, label="dtype")
    x = data.draw(sst.logits(dtype, (3, 5), "offset"), label="x").astype(np.float64)
    spread = np.max(x) - np.min(x)
    assert np.min(np.abs(x)) >= 1e3
    assert spread <= 16 * np.spacing(np.max(np.abs(x)).astype(dt.numpy_dtype(dtype))).astype(np.float64)


@given(st.data())
def test_temperatures_keep_x_over_t_finite(data):
    dtype = data.draw(DTYPE, label="dtype")
    x = data.draw(sst.logits(dtype, (4,), "extreme"), label="x")
    t = data.draw(sst.temperatures(dtype, x), label="T")
    assert np.all(np.abs(x.astype(np.float64) / t) <= dt.largest(dtype))
