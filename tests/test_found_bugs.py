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
    # The built-in adapter avoids the fusion and is correct on the same input.
    jax_adapter = builtin("jax")
    fixed = jax_adapter.to_numpy(jax_adapter.ops["temperature_softmax"](jax_adapter.from_numpy(X), T))
    np.testing.assert_allclose(fixed, 1 / 64)
