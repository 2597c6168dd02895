"""Shrinking is time-limited (suite.runner.shrink_time_limit): a slow shrink stops at its limit
with a failing counterexample and its time kept apart from the implementation's; a user's own
Hypothesis session keeps Hypothesis's own limit."""
from __future__ import annotations

import time

import numpy as np
from hypothesis.internal.conjecture import engine

from suite.adapter import wrap_callable
from suite.profiles import certification_settings
from suite.properties import all_properties
from suite.runner import run_property, shrink_limit_for


def _slow_and_wrong(x, axis=-1):
    """Sums to 1 + 1e-3 on arrays of 16 entries or more with an entry past 1 in magnitude, and
    takes 50 ms a call: shrinking such an input toward the simplest failing one tries many
    candidates (the simplest inputs pass, so the first failure is never already minimal)."""
    time.sleep(0.05)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    wrong = x.size >= 16 and bool(np.any(np.abs(x) > 1))
    return (e / e.sum(axis=axis, keepdims=True) * (1 + 1e-3 if wrong else 1)).astype(x.dtype)


def _wrong(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True) * (1 + 1e-3)).astype(x.dtype)


def _run(fn, limit):
    adapter = wrap_callable(fn, "tests:slow", "softmax")
    prop = all_properties()["sums_to_one"]
    return run_property(prop, adapter, "softmax", "float32", settings=certification_settings("ci"), seed=0, shrink_limit=limit)


def test_a_slow_shrink_stops_at_its_limit_with_a_failing_counterexample():
    before = engine.MAX_SHRINKING_SECONDS
    start = time.perf_counter()
    outcome = _run(_slow_and_wrong, limit=1.0)
    assert outcome.status == "fail" and outcome.counterexample and outcome.repro
    assert outcome.shrink_stopped and 1.0 <= outcome.shrink_s < 30
    assert time.perf_counter() - start < 60
    assert engine.MAX_SHRINKING_SECONDS == before  # restored: other Hypothesis tests keep their limit


def test_a_quick_shrink_finishes_and_says_so():
    outcome = _run(_wrong, limit=shrink_limit_for("ci"))
    assert outcome.status == "fail" and not outcome.shrink_stopped
    assert 0 < outcome.shrink_s < shrink_limit_for("ci")
    assert "np.array([" in outcome.counterexample["x"]


def test_the_limit_per_profile():
    assert shrink_limit_for("ci") == 20.0 and shrink_limit_for("thorough") == 300.0


def test_certification_profiles_skip_the_explain_phase_and_keep_shrinking():
    """Hypothesis's explain phase reruns a failure dozens of times for output the reports never
    show; every profile leaves it out, and all but detect still shrink."""
    from hypothesis import Phase

    from suite.profiles import PROFILES

    for name in PROFILES:
        phases = certification_settings(name).phases
        assert Phase.explain not in phases and Phase.generate in phases, name
        assert (Phase.shrink in phases) == (name != "detect"), name
