"""A suite error is never a verdict: when the suite itself raises, the outcome is "suite error",
the certification is "undecided" (exit 3), and the error comes with its traceback and what to do.

The planted error is the one a plain install met before mpmath was a core dependency: the oracle
cannot import mpmath. A ``sitecustomize`` on PYTHONPATH makes that import fail in the CLI and in
every worker it starts, exactly as a missing module does.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from suite.verdict import CERTIFIED, EXIT_STATUS, NOT_CERTIFIED, UNDECIDED, certification_verdict

ROOT = Path(__file__).resolve().parent.parent
UNGUARDED_LSE = ROOT / "implementations" / "broken" / "lse_unguarded_shift.py"

BLOCK_MPMATH = textwrap.dedent(
    """
    import sys

    class _NoMpmath:
        def find_spec(self, name, path=None, target=None):
            if name == "mpmath" or name.startswith("mpmath."):
                raise ModuleNotFoundError("No module named 'mpmath'", name="mpmath")
            return None

    sys.meta_path.insert(0, _NoMpmath())
    """
)


@pytest.fixture
def without_mpmath(tmp_path):
    """An environment in which ``import mpmath`` fails, for the CLI and its workers."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCK_MPMATH)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def certify(env, target, *args, report):
    cmd = [sys.executable, "-m", "suite.cli", "certify", target, "--no-speed", "--report", str(report), *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_the_three_verdicts_and_their_exit_statuses():
    assert certification_verdict(rejected=False, suite_errors=0) == CERTIFIED
    assert certification_verdict(rejected=False, suite_errors=2) == UNDECIDED
    assert certification_verdict(rejected=True, suite_errors=2) == NOT_CERTIFIED
    assert EXIT_STATUS == {CERTIFIED: 0, NOT_CERTIFIED: 1, UNDECIDED: 3}


def test_a_suite_error_makes_a_correct_implementation_undecided_not_rejected(without_mpmath, tmp_path):
    # logsumexp's oracle needs mpmath for float64 rows with heavy cancellation (suite/oracle.py)
    done = certify(without_mpmath, "numpy-reference", "--op", "logsumexp", "--dtypes", "float64",
                   "--properties", "output_contract,definition", report=tmp_path / "r")
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr[-3000:]
    cert = json.loads((tmp_path / "r" / "certificate.json").read_text())
    assert cert["verdict"] == "undecided" and cert["certified"] is False and cert["reasons"] == []
    definition = next(p for p in cert["properties"] if p["name"] == "definition")
    outcome = definition["dtypes"]["float64"]
    assert definition["status"] == outcome["status"] == "suite error"
    assert outcome["message"].startswith("suite error ModuleNotFoundError: No module named 'mpmath'")
    assert "Traceback" in outcome["message"] and "pip install" in outcome["message"]
    assert cert["suite_errors"] == [{"property": "definition", "dtype": "float64", "message": outcome["message"]}]
    contract = next(p for p in cert["properties"] if p["name"] == "output_contract")
    assert contract["status"] == "pass"  # the properties the suite could decide are decided
    assert "numpy-reference logsumexp: UNDECIDED - the suite could not decide: definition (float64)" in done.stdout
    assert "Traceback" in done.stdout and "a core dependency is missing" in done.stdout
    assert "NOT CERTIFIED" not in done.stdout


def test_a_real_failure_beside_a_suite_error_still_rejects(without_mpmath, tmp_path):
    done = certify(without_mpmath, f"{UNGUARDED_LSE}:logsumexp", "--op", "logsumexp", "--dtypes", "float64",
                   "--properties", "lse_all_masked,definition", report=tmp_path / "r")
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    cert = json.loads((tmp_path / "r" / "certificate.json").read_text())
    assert cert["verdict"] == "not certified" and [e["property"] for e in cert["suite_errors"]] == ["definition"]
    assert "failed: lse_all_masked" in done.stdout and "the suite could not decide: definition (float64)" in done.stdout


def test_the_pytest_plugin_reports_a_suite_error_as_undecided(monkeypatch):
    import numpy as np

    from suite.pytest_plugin import certify_callable

    monkeypatch.setitem(sys.modules, "mpmath", None)  # import mpmath raises ImportError

    def logsumexp(x, axis=-1):
        m = np.max(x, axis=axis, keepdims=True)
        return np.squeeze(m, axis) + np.log(np.sum(np.exp(x - m), axis=axis))

    result = certify_callable(logsumexp, "logsumexp", dtypes=("float64",), properties=("definition",))
    assert result.verdict == UNDECIDED and not result.certified
    assert "UNDECIDED" in result.report() and "could not be decided (the suite raised, not the implementation)" in result.report()


def test_an_unexpected_exception_in_the_cli_is_exit_3_with_its_traceback(monkeypatch, capsys):
    from suite import cli

    def broken(args):
        raise KeyError("planted")

    monkeypatch.setattr(cli, "cmd_matrix", broken)
    assert cli.main(["matrix", "somewhere"]) == cli.EXIT_SUITE_ERROR
    err = capsys.readouterr().err
    assert "suite error KeyError: 'planted'" in err and "please report it" in err and "Traceback" in err


def test_an_undecided_mutant_is_not_counted_as_killed():
    from suite.zoo import Entry, rejected

    entry = Entry("implementations.broken.naive_logsumexp", "logsumexp", "logsumexp", broken=True)
    undecided = {"verdict": UNDECIDED, "certified": False, "properties": [], "suite_errors": [{"property": "definition"}]}
    assert not rejected(undecided, entry)
    assert rejected(dict(undecided, verdict=NOT_CERTIFIED), entry)


def test_a_reference_that_raises_leaves_grad_cross_backend_undecided(monkeypatch):
    """grad_cross_backend compares the target's gradient with other built-ins': when one of those
    raises (a Triton built-in called without its interpreter did), the suite could not decide;
    the target is not blamed for it."""
    pytest.importorskip("torch", reason="grad_cross_backend needs a differentiable backend (torch)")
    import dataclasses

    from implementations import torch_cpu
    from suite.properties import all_properties, gradients
    from suite.runner import ERROR, run_property

    def raises(x, axis=-1):
        raise RuntimeError("0 active drivers ([]). There should only be one.")

    reference = dataclasses.replace(torch_cpu.ADAPTER, name="broken-reference", device="other", ops={"softmax": raises})
    monkeypatch.setattr(gradients, "_other_backends", lambda adapter, op: [reference])
    outcome = run_property(all_properties()["grad_cross_backend"], torch_cpu.ADAPTER, "softmax", "float64", seed=0)
    assert outcome.status == ERROR, outcome.report()
    assert "the reference built-in broken-reference raised" in outcome.message
