"""Self-tests of the sampler properties: broken samplers are rejected by the distribution test,
a correct sampler that is not Gumbel-based is certified, and the statistical design holds
(Bonferroni accounting, power at the sample sizes used, pooling, determinism).

The built-in samplers themselves run in tests/test_battery.py (SAMPLER_OPS rows); the
200-seed calibration is scripts/sampler_calibration.py (docs/samplers.md)."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from suite import dtypes as dt
from suite import statistics as stat
from suite.adapter import builtin, load_target
from suite.ops import SAMPLER_OPS
from suite.properties import FIXED, all_properties, properties_for
from suite.properties import samplers as sp
from suite.runner import FAIL, PASS, SKIP, run_property

ROOT = Path(__file__).resolve().parent.parent


def _run(name, adapter, op, dtype="float32"):
    return run_property(all_properties()[name], adapter, op, dtype)


# --------------------------------------------------------------------------- broken and correct


@pytest.mark.parametrize(
    "spec, op, prop",
    [
        ("implementations.broken.exponential_noise:gumbel_max", "gumbel_max", "gumbel_max_distribution"),
        ("implementations.broken.exponential_noise:gumbel_softmax", "gumbel_softmax", "gumbel_softmax_argmax_distribution"),
        ("implementations.broken.reused_noise:gumbel_max", "gumbel_max", "gumbel_max_distribution"),
    ],
)
def test_broken_sampler_is_rejected_by_the_distribution_test(spec, op, prop):
    outcome = _run(prop, load_target(spec, op=op, backend="numpy"), op)
    assert outcome.status == FAIL and outcome.property == prop, outcome.report()
    report = outcome.report()
    # readable: the property, the logits, expected vs observed frequencies, p-value vs threshold, a repro
    for needle in ("frequencies do not match softmax(logits)", "expected", "observed", "p=", "alpha=", "logits = np.array("):
        assert needle in report, report
    assert outcome.repro.startswith("python -c") and spec in outcome.repro


def test_exponential_noise_is_uniform_on_flat_logits_so_only_the_battery_catches_it():
    """Why the battery has several vectors: exponential noise is exact on flat logits."""
    adapter = load_target("implementations.broken.exponential_noise:gumbel_max", op="gumbel_max")
    call = lambda *a: adapter.ops["gumbel_max"](*a)  # noqa: E731
    results = {name: r for name, _, _, r in sp.distribution_battery(call, "gumbel_max", "float32")}
    assert not results["flat"].rejected and results["peaked"].rejected


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_inverse_cdf_sampler_is_certified(dtype):
    adapter = load_target("implementations.correct.inverse_cdf:gumbel_max", op="gumbel_max", backend="numpy")
    for prop in properties_for("gumbel_max"):
        outcome = run_property(prop, adapter, "gumbel_max", dtype)
        assert outcome.status == PASS, outcome.report()


def test_detached_hard_sampler_passes_the_forward_properties():
    pytest.importorskip("torch")
    adapter = load_target("implementations.broken.gumbel_hard_detached:gumbel_softmax", op="gumbel_softmax", backend="torch")
    # its forward is a correct Gumbel-softmax: the statistical properties pass it (the gradient one does not)
    assert _run("gumbel_softmax_contract", adapter, "gumbel_softmax").status == PASS
    assert _run("gumbel_softmax_low_temperature", adapter, "gumbel_softmax").status == PASS


def test_certify_cli_runs_the_sampler_properties(tmp_path):
    exe = Path(sys.executable).with_name("softmax-suite")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "suite.cli"]
    report = tmp_path / "inv"
    result = subprocess.run(
        cmd
        + ["certify", "implementations.correct.inverse_cdf:gumbel_max", "--op", "gumbel_max", "--dtypes", "float32", "--report", str(report)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    cert = json.loads((report / "certificate.json").read_text())
    names = {p["name"]: p for p in cert["properties"]}
    assert names["gumbel_max_distribution"]["status"] == PASS
    assert names["gumbel_max_distribution"]["kind"] == FIXED
    assert {"gumbel_max_contract", "gumbel_max_seeded"} <= set(names)


# --------------------------------------------------------------------------- the statistical design


def test_bonferroni_accounting():
    """Every statistical decision of one certification is counted, and the family-wise rate is <= 1e-6."""
    assert sp.TESTS_PER_DTYPE["gumbel_max"] == len(sp.battery_vectors("gumbel_max"))
    assert sp.TESTS_PER_DTYPE["gumbel_softmax"] == len(sp.battery_vectors("gumbel_softmax")) + 1  # + low temperature
    assert sp.TESTS_PER_DTYPE["temperature_softmax"] == len(sp.TEMPERATURE_CASES)
    # the fixed batteries that decide by a statistical test (the regime battery's fixed tables decide none)
    statistical = {
        op: [p.name for p in properties_for(op, differentiable=True) if p.kind == FIXED and p.func.__module__ == sp.__name__]
        for op in sp.TESTS_PER_DTYPE
    }
    assert statistical == {
        "gumbel_max": ["gumbel_max_distribution"],
        "gumbel_softmax": ["gumbel_softmax_argmax_distribution", "gumbel_softmax_low_temperature"],
        "temperature_softmax": ["temperature_gumbel_law"],
    }
    for count in sp.TESTS_PER_DTYPE.values():
        assert count * stat.MAX_DTYPES <= stat.TESTS_PER_CERTIFICATION
    assert stat.ALPHA_TEST * stat.TESTS_PER_CERTIFICATION <= stat.NOMINAL_FAMILY_ALPHA <= stat.REQUIRED_FAMILY_ALPHA / 10


@pytest.mark.parametrize("op", SAMPLER_OPS)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_sample_sizes_give_the_documented_power(op, dtype):
    for name in sp.battery_vectors(op):
        _, p, n = sp._design(op, name, dtype)
        assert stat.worst_case_power(n, p) >= stat.POWER, (name, n)
        assert stat.worst_case_power(n - 10_000, p) < stat.POWER, (name, n)  # and not much larger than needed
        assert stat.power_against(n, p, stat.planted_bias(p)) >= stat.POWER


def test_pooling_keeps_every_cell_large():
    p = stat.law(np.linspace(0, -16, 24))
    for n in (10_000, 240_000, 10**7):
        groups = stat.pool(p, n)
        expected = n * stat.grouped(p, groups)
        assert np.all(expected >= stat.E_MIN) and np.isclose(expected.sum(), n)
        assert sorted(set(groups.tolist())) == list(range(len(expected)))


def test_masked_hit_is_a_rejection_whatever_the_counts():
    p = stat.law(np.array([0.0, -np.inf, 0.0]))
    result = stat.gof_test(np.array([50_000, 1, 50_000]), p)
    assert result.rejected and "probability 0" in result.describe()


def test_planted_bias_has_the_requested_total_variation():
    for x in sp.VECTORS.values():
        p = stat.law(x)
        q = stat.planted_bias(p, 0.01)
        assert np.isclose(0.5 * np.abs(q - p).sum(), 0.01) and np.isclose(q.sum(), 1) and np.all(q[p == 0] == 0)


def test_soft_argmax_breaks_ties_at_random():
    y = np.tile(np.array([0.25, 0.5, 0.5, 0.0]), (20_000, 1))
    counts = np.bincount(sp.soft_argmax(y, 1), minlength=4)
    assert counts[0] == counts[3] == 0 and abs(counts[1] - counts[2]) < 1_000


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_soft_argmax_without_ties_is_the_argmax_the_noise_would_pick(dtype):
    """Rows without a tie skip the tie-breaking noise; every row's argmax is the one the noisy rule picks."""
    rng = np.random.default_rng(3)
    tied = np.tile(np.array([0.25, 0.5, 0.5] + [0.0] * 7), (64, 1))
    y = np.concatenate([rng.dirichlet(np.full(10, 0.05), 4096), tied]).astype(dt.numpy_dtype(dtype))
    y64 = y.astype(np.float64)
    noisy = np.argmax(np.where(y64 == y64.max(axis=-1, keepdims=True), np.random.default_rng(9).random(y.shape), -1.0), axis=-1)
    assert np.array_equal(sp.soft_argmax(y, 9), noisy)
    untied = y[np.sum(y64 == y64.max(axis=-1, keepdims=True), axis=-1) == 1]
    assert np.array_equal(sp.soft_argmax(untied, 9), np.argmax(untied.astype(np.float64), axis=-1))


def test_verdict_is_deterministic():
    adapter = builtin("numpy-reference")
    first = _run("gumbel_max_distribution", adapter, "gumbel_max")
    second = _run("gumbel_max_distribution", adapter, "gumbel_max")
    assert first.status == second.status == PASS and first.stats == second.stats


def test_temperature_law_skips_short_dtypes_and_catches_a_wrong_temperature():
    assert _run("temperature_gumbel_law", builtin("numpy-reference"), "temperature_softmax", "bfloat16").status == SKIP
    reference = builtin("numpy-reference")
    times_t = lambda x, t, axis=-1: reference.ops["softmax"](x * t, axis)  # noqa: E731  x * T, not x / T
    wrong = dataclasses.replace(reference, name="x-times-T", ops={"temperature_softmax": times_t})
    outcome = _run("temperature_gumbel_law", wrong, "temperature_softmax")
    assert outcome.status == FAIL and "Gumbel-max at T=" in outcome.message, outcome.report()
