"""Bugs this suite found in real libraries, pinned as regression examples.

Each test reproduces the library's behaviour on the minimal input the battery
shrank to, and skips (rather than fails) if an upgraded library has fixed it,
so CI on a newer release does not break while the zoo entry stays documented.
"""
from __future__ import annotations

import numpy as np
import pytest

from suite import oracle
from suite.adapter import builtin, load_target

X = np.full((64,), 3.36879526214505e38, dtype=np.float32)  # shrunk by the battery, regime 'extreme'
T = 1.984375


def test_xla_fused_temperature_softmax_returns_nan_near_rmax():
    pytest.importorskip("jax")
    fused = load_target("implementations.broken.jax_fused_temperature:temperature_softmax", op="temperature_softmax", backend="jax")
    got = fused.to_numpy(fused.ops["temperature_softmax"](fused.from_numpy(X), T))
    exact = oracle.temperature_softmax(X, T)  # long double: uniform 1/64
    np.testing.assert_allclose(exact.astype(np.float64), 1 / 64)
    if not np.isnan(got).any():
        pytest.skip("this jax/XLA release no longer mis-fuses softmax(x / t); update the zoo entry's docstring")
    # The suite's workaround reference divides in a jit of its own and is correct on the same input.
    workaround = builtin("jax-workarounds")
    fixed = workaround.to_numpy(workaround.ops["temperature_softmax"](workaround.from_numpy(X), T))
    np.testing.assert_allclose(fixed, 1 / 64)


def test_builtin_jax_is_the_public_api_and_shows_the_fused_nan():
    """The built-in "jax" is jax.nn.softmax(x / t) under one jit, as users write it, so the
    matrix's jax column shows the NaN (tests/test_battery.py declares it as a library finding)."""
    pytest.importorskip("jax")
    jax_adapter = builtin("jax")
    got = jax_adapter.to_numpy(jax_adapter.ops["temperature_softmax"](jax_adapter.from_numpy(X), T))
    if not np.isnan(got).any():
        pytest.skip("this jax/XLA release no longer mis-fuses softmax(x / t); drop the LIBRARY_FINDINGS entry")
    assert np.isnan(got).all()


def test_jax_categorical_on_bfloat16_logits_draws_a_rare_category_too_seldom():
    """jax.random.categorical on bfloat16 logits draws bfloat16 Gumbel noise (7 random mantissa
    bits, bounded above at 4.85): category 1 of [0, -6] (p = 0.00247) comes out at 72% of its
    rate in 10**6 draws (z = -14 with jax 0.10.2, seed 0); the same logits sampled in float32
    ("jax-workarounds") are drawn at their rate. Deterministic: a fixed key, one call (< 1 s)."""
    pytest.importorskip("jax")
    import ml_dtypes

    logits = np.array([0.0, -6.0], dtype=ml_dtypes.bfloat16)
    p = 1.0 / (1.0 + np.exp(6.0))
    n = 10**6

    def z_score(name: str) -> float:
        adapter = builtin(name)
        samples = adapter.to_numpy(adapter.ops["gumbel_max"](adapter.from_numpy(logits), n, 0))
        return ((samples == 1).mean() - p) / np.sqrt(p * (1 - p) / n)

    assert abs(z_score("jax-workarounds")) < 5
    z = z_score("jax")
    if abs(z) < 5:
        pytest.skip(f"jax.random.categorical on bfloat16 logits is no longer biased here (z = {z:.1f}); drop the LIBRARY_FINDINGS entry")
    assert z < -5
