"""The pytest plugin (pytest11 entry point): options, one test id per property and dtype, xfail, and helpers."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from importlib.metadata import entry_points

ROOT = Path(__file__).resolve().parent.parent
NAIVE = ROOT / "implementations" / "broken" / "naive_softmax.py"


def pytest_in(tmp_path, *args, files=None):
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", *args]
    return subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=600)


def test_entry_point_is_registered():
    names = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert names.get("softmax_suite") == "suite.pytest_plugin"


def test_options_generate_one_test_per_property_and_dtype(tmp_path):
    result = pytest_in(
        tmp_path,
        "--softmax-target", "implementations.numpy_reference:logsumexp",
        "--softmax-op", "logsumexp",
        "--softmax-dtypes", "float32,float64",
        "--softmax-xfail", "empty_axis-float64",
        "-k", "output_contract or empty_axis or finite_outputs",
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "PASSED softmax-suite::implementations.numpy_reference:logsumexp-logsumexp-output_contract-float32" in out
    assert "logsumexp-finite_outputs-float64" in out
    assert "XPASS" in out and "empty_axis-float64" in out  # marked xfail; the rest still runs
    assert "5 passed" in out and "1 xpassed" in out


def test_failing_property_is_its_own_failed_test(tmp_path):
    result = pytest_in(
        tmp_path,
        "--softmax-target", f"{NAIVE}:softmax",
        "--softmax-op", "softmax",
        "--softmax-dtypes", "float32",
        "--softmax-xfail", "definition",
        "-k", "finite_outputs or output_contract or definition",
    )
    out = result.stdout
    assert result.returncode == 1
    assert "FAILED softmax-suite::" in out and "finite_outputs-float32" in out
    assert "PASSED softmax-suite::" in out and "output_contract-float32" in out
    assert "XFAIL softmax-suite::" in out and "definition-float32" in out
    assert "repro: python -c" in out


def test_bad_options_are_usage_errors(tmp_path):
    result = pytest_in(tmp_path, "--softmax-target", "no_such_module_xyz:f", "--softmax-op", "softmax")
    assert result.returncode == 4  # pytest's usage error
    assert "cannot import module" in result.stderr


def test_helpers_inside_a_test_file(tmp_path):
    result = pytest_in(
        tmp_path,
        files={
            "test_mine.py": f'''
                import numpy as np
                import pytest
                from suite.pytest_plugin import certify_callable, check_case, property_cases

                def my_softmax(x, axis=-1):
                    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
                    return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype)

                def naive(x, axis=-1):
                    with np.errstate(all="ignore"):
                        e = np.exp(x)
                        return e / np.sum(e, axis=axis, keepdims=True)

                CASES = property_cases(naive, "softmax", dtypes=["float64"], xfail={{"finite_outputs": "known overflow"}},
                                       properties=["finite_outputs", "output_contract"])

                @pytest.mark.parametrize("case", CASES)
                def test_naive(case):
                    check_case(case)

                def test_fixture(softmax_certify):
                    result = softmax_certify(naive, "softmax", dtypes=["float32"], properties=["finite_outputs", "in_unit_interval"])
                    assert not result.certified
                    assert any(o.property == "finite_outputs" for o in result.failures)
                    assert "finite_outputs" in result.report()

                def test_certify_callable_passes_a_stable_softmax():
                    result = certify_callable(my_softmax, "softmax", dtypes=["float64"], profile="dev",
                                              properties=["definition", "fully_masked_row"])
                    assert result.implementation.endswith("my_softmax")
                    assert "fully_masked_row-float64" in result.implementation_defined
            '''
        },
    )
    out = result.stdout
    assert "test_naive[" in out and "output_contract-float64" in out
    assert "XFAIL" in out and "finite_outputs-float64" in out
    assert "PASSED test_mine.py::test_fixture" in out
    # the stable softmax without -inf handling may fail masked properties; it must at least run
    assert "test_certify_callable_passes_a_stable_softmax" in out



# A user's own module (not a test file, so Hypothesis mixes its literals into every draw)
# and a Hypothesis test of theirs that records what it draws.
USER_MODULE = '''
    LOCAL_CONSTANT = 987654321
'''
USER_HYPOTHESIS_TEST = '''
    import json, os
    from hypothesis import given, settings, strategies as st
    import mylib  # noqa: F401

    DRAWN = []

    @settings(derandomize=True, max_examples=300, database=None)
    @given(st.lists(st.integers(), min_size=5, max_size=20))
    def test_users_own_draws(xs):
        DRAWN.append(xs)

    def test_write_draws():
        with open(os.environ["DRAWS_FILE"], "w") as fh:
            json.dump(DRAWN, fh)
'''
# Runs one of the suite's properties before the user's test. Every suite module is imported up
# front: in this editable checkout they count as the user's local modules to Hypothesis (an
# installed softmax-suite lives in site-packages and never does), so both sessions must hold the same.
SUITE_PROPERTY_FIRST = '''
    import importlib, pkgutil
    import numpy as np
    import suite, suite.properties
    for info in pkgutil.walk_packages(suite.__path__, "suite."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    from suite.pytest_plugin import certify_callable

    def test_a_suite_property_runs_first():
        def softmax(x, axis=-1):
            e = np.exp(x - np.max(x, axis=axis, keepdims=True))
            return e / np.sum(e, axis=axis, keepdims=True)
        certify_callable(softmax, "softmax", dtypes=["float64"], profile="dev", properties=["definition"])
'''


def test_plugin_is_a_guest_in_a_users_hypothesis_session(tmp_path, monkeypatch):
    """Installed, the plugin changes nothing a user's own Hypothesis test draws: the same draws
    with the plugin loaded as with it disabled (-p no:softmax_suite), and the same after one of
    the suite's properties ran earlier in the session as when it did not run. The draws include
    the user's module constant, so a suite that emptied Hypothesis's pool of local constants
    for the session (or left it emptied after its own run) fails this test."""
    user = {"mylib.py": USER_MODULE, "test_user.py": USER_HYPOTHESIS_TEST}
    first = dict(user, **{"test_a_first.py": SUITE_PROPERTY_FIRST})
    runs = {
        "plugin loaded": ([], user),
        "plugin disabled": (["-p", "no:softmax_suite"], user),
        "after a suite property": ([], first),
        "suite property deselected": (["--deselect", "test_a_first.py::test_a_suite_property_runs_first"], first),
    }
    draws = {}
    for name, (args, files) in runs.items():
        where = tmp_path / name.replace(" ", "_")
        where.mkdir()
        monkeypatch.setenv("DRAWS_FILE", str(where / "draws.json"))
        result = pytest_in(where, *args, files=files)
        assert result.returncode == 0, result.stdout + result.stderr
        draws[name] = (where / "draws.json").read_text()
    assert "987654321" in draws["plugin disabled"], "the check needs draws that use the user's module constants"
    assert draws["plugin loaded"] == draws["plugin disabled"]
    assert draws["after a suite property"] == draws["suite property deselected"]


def test_a_forward_only_target_gets_no_gradient_tests(tmp_path):
    import pytest

    pytest.importorskip("torch", reason="the forward-only declaration is for differentiable backends (torch)")
    target = ROOT / "implementations" / "correct" / "forward_only_softmax.py"
    common = ["--softmax-target", f"{target}:softmax", "--softmax-op", "softmax", "--softmax-backend", "torch",
              "--softmax-dtypes", "float32", "--collect-only"]
    declared = pytest_in(tmp_path, *common, "--softmax-forward-only").stdout
    undeclared = pytest_in(tmp_path, *common).stdout
    assert "grad_closed_form" in undeclared and "grad_" not in declared and "definition-float32" in declared
