"""Hypothesis profiles and the ``--implementations`` selector for the suite's own tests.

Profiles (select with ``--hypothesis-profile NAME`` or HYPOTHESIS_PROFILE):
  dev       quick local iteration, random
  ci        derandomized, no deadline: the same examples on every run (CI's default)
  thorough  many examples, for a release or a new implementation
"""
from __future__ import annotations

import os

from hypothesis import settings

from suite.profiles import register

register()
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
# The speed section of every certification these tests make times tiny shapes (a test of the code
# path, seconds less per certification); tests/test_speed_section.py times the real ones.
os.environ.setdefault("SOFTMAX_SUITE_BENCH_SMOKE", "1")


def pytest_addoption(parser):
    parser.addoption(
        "--implementations",
        default="",
        help="comma-separated built-in implementations to test (default: every available one)",
    )
    parser.addoption(
        "--battery-full",
        action="store_true",
        help="run tests/test_battery.py in full: every ordinary example of the profile and every kernel-scale pass on "
        "every dtype (default, CI's bounded form: 40%% of the examples, and each property's kernel-scale passes on one "
        "dtype in rotation)",
    )
    parser.addoption(
        "--zoo-seeds",
        type=int,
        default=4,
        metavar="N",
        help="seeds over which tests/test_zoo.py certifies each correct zoo implementation, one dtype per seed "
        "in rotation (default 4: one seed per dtype, CI's bounded form; 20 is softmax-suite run --zoo's full sweep)",
    )


import pytest  # noqa: E402


@pytest.fixture
def selected_implementations(request) -> set[str]:
    chosen = request.config.getoption("--implementations")
    return {name.strip() for name in chosen.split(",") if name.strip()}
