"""The suite validated against its own zoo (issue 7), through ``softmax-suite certify``'s code path.

Every mutant in implementations/broken/ must be rejected, with the property its
ZOO entry names among the failures; every correct implementation in
implementations/correct/ must be certified for ``--zoo-seeds`` seeds (one dtype per
seed, in rotation; default 4, one seed per dtype, which keeps CI's sweep to a fifth of
``softmax-suite run --zoo``'s 20 seeds; ``--zoo-seeds 20`` runs the full sweep); every required property must be the named catcher of at least one
mutant, so that none of them is a check that cannot fail. ``softmax-suite run --zoo`` shows the same figures with
every property run on every mutant (see suite/zoo.py).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from suite import backends, zoo
from suite.certify import Progress, Settings, certify_many
from suite.properties import all_properties

ENTRIES = zoo.entries()
MUTANTS = [e for e in ENTRIES if e.broken]
CORRECT = [e for e in ENTRIES if not e.broken]
QUIET = Progress(quiet=True)
# Emulated devices (Triton's interpreter): their correct entries' sweeps are left to tests/test_triton.py
INTERPRETED = {device for b in backends.all_backends().values() for device in b.emulated}


def _available(entry: zoo.Entry) -> str | None:
    """Why the entry's backend cannot run here, if it cannot (torch-cuda without a GPU)."""
    return zoo.glue(entry).unavailable_reason()


def _docstring(entry: zoo.Entry) -> str:
    path = zoo.ROOT.joinpath(*entry.module.split(".")).with_suffix(".py")
    return ast.get_docstring(ast.parse(path.read_text())) or ""


def test_zoo_has_at_least_25_bug_classes():
    classes = sorted({e.module for e in MUTANTS})
    assert len(classes) >= 25, f"{len(classes)} bug classes in implementations/broken/: {classes}"


def test_every_required_property_is_named_by_a_mutant():
    """A required property no mutant names is either missing its mutant or cannot fail."""
    named = {name for e in MUTANTS for name in e.caught_by}
    # opt-in properties (huge_indices) need more memory than the zoo has; tests/test_huge.py kills their mutant
    required = [name for name, p in all_properties().items() if p.required and p.opt_in is None]
    assert [name for name in required if name not in named] == []


@pytest.mark.parametrize("entry", MUTANTS, ids=lambda e: e.name)
def test_mutant_documents_its_bug(entry):
    doc = _docstring(entry)
    for heading in ("What is wrong", "Seen in", "Must be caught by"):
        assert heading in doc, f"{entry.module}: the docstring has no {heading!r}"


@pytest.mark.parametrize("entry", MUTANTS, ids=lambda e: e.name)
def test_mutant_is_rejected_by_its_property(entry):
    reason = _available(entry)
    if reason:
        pytest.skip(reason)
    request = zoo.request(entry, seed=0, properties=entry.caught_by)
    cert = certify_many([request], Settings(profile=zoo.MUTANT_PROFILE, jobs=1), progress=QUIET)[0]
    found = zoo.killers(cert, entry)
    missing = [name for name in entry.caught_by if name not in found]
    assert zoo.rejected(cert, entry) and not missing, (
        f"{entry.target} ({entry.op}, {entry.backend}) should be rejected by {', '.join(entry.caught_by)}; "
        f"verdict {cert['verdict']}, failed: {', '.join(found) or 'nothing'}\n"
        f"repro: softmax-suite certify {entry.target} --op {entry.op} --backend {entry.backend} "
        f"--properties {','.join(entry.caught_by)}" + (f" --dtypes {','.join(entry.dtypes)}" if entry.dtypes else "")
    )


def pytest_generate_tests(metafunc):
    if metafunc.function.__name__ == "test_correct_implementation_is_certified_for_every_seed":
        seeds = metafunc.config.getoption("--zoo-seeds")
        metafunc.parametrize("entry, plan", [pytest.param(e, zoo.sweep_plan(e, seeds), id=e.name) for e in CORRECT])


def test_correct_implementation_is_certified_for_every_seed(entry, plan):
    """One test per correct entry: its (seed, dtype) certifications in one certify_many call, so
    that they share a worker and the backend is imported once (see zoo.sweep_plan)."""
    reason = _available(entry)
    if reason:
        pytest.skip(reason)
    if entry.device in INTERPRETED:
        pytest.skip(f"{entry.device}: every property under Triton's interpreter costs minutes a seed; "
                    "tests/test_triton.py certifies it on its decisive properties, softmax-suite run --zoo sweeps it")
    requests = [zoo.request(entry, seed=s, dtypes=(dtype,)) for s, dtype in plan]
    certs = certify_many(requests, Settings(profile=zoo.SWEEP_PROFILE, jobs=1), progress=QUIET)
    rejected = [f"seed {c['seed']} ({', '.join(c['dtypes'])}): {'; '.join(c['reasons'])}" for c in certs if not c["certified"]]
    assert rejected == [], (
        f"{entry.target} ({entry.op}) is correct but was rejected:\n" + "\n".join(rejected) + "\n"
        f"repro: softmax-suite certify {entry.target} --op {entry.op} --backend {entry.backend} "
        f"--dtypes DTYPE --profile {zoo.SWEEP_PROFILE} --seed N"
    )


def test_report_counts_a_surviving_mutant_and_a_false_rejection(tmp_path):
    """The zoo report is itself checked: a "mutant" that is correct survives, a "correct"
    implementation that is broken is a false rejection, and --check would fail on both."""
    from suite.reports import write_matrix

    planted = [
        zoo.Entry("implementations.numpy_reference", "softmax", "softmax", True, dtypes=("float64",), caught_by=("definition",)),
        zoo.Entry("implementations.broken.naive_softmax", "softmax", "softmax", True, dtypes=("float32",), caught_by=("finite_outputs",)),
        zoo.Entry("implementations.broken.epsilon_denominator", "softmax", "softmax", False, dtypes=("float64",)),
    ]
    report = zoo.evaluate(planted, seeds=1, jobs=1)
    by_name = {row["entry"]: row for row in report["mutants"]}
    assert not by_name["numpy_reference:softmax"]["killed"]
    assert by_name["naive_softmax:softmax"]["killed"] and by_name["naive_softmax:softmax"]["expected_seen"]
    assert report["kill_rate"] == 0.5
    assert "naive_softmax:softmax" in report["per_property"]["finite_outputs"]
    assert report["false_rejections"] == 1
    write_matrix([], {}, tmp_path, zoo=report)
    text = (tmp_path / "matrix.md").read_text()
    assert "Kill rate: 1/2 mutants (50%)" in text and "SURVIVED" in text
    assert "False rejections: 1 in 1 certifications" in text
    assert (tmp_path / "zoo.json").exists() and 'id="zoo-mutants"' in (tmp_path / "matrix.html").read_text()
