"""Triton kernels certified on any machine (issue 29): the device triton-interpret, the built-in
column triton-softmax, and the Triton entries of the zoo, at a bounded cost (a few properties,
float32: about two minutes on 2 cores). Every test but the size plan's skips with the
reason where torch or triton is not installed."""
from __future__ import annotations

import pytest

from suite import backends, sizes, zoo
from suite.adapter import UsageError
from suite.certify import Progress, Settings, certify, certify_many, target_request
from suite.isolation import _needs_own_worker
from suite.worker import desc_key

from implementations.triton_softmax import ADAPTER, triton_missing

QUIET = Progress(quiet=True)
MISSING = triton_missing()
needs_triton = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
INTERPRET = backends.emulated("torch", "triton-interpret")
TRITON_ENTRIES = [e for e in zoo.entries() if e.device == "triton-interpret"]


def test_the_row_menu_is_capped_on_the_interpreter_and_pinned_rows_still_run():
    plan = sizes.plan_for("ci", rows=(65537,), emulated=INTERPRET)
    assert plan.row_menu() == [4095, 4096, 4097]
    assert plan.rows_left_out() == [65535, 65536, 65537]
    assert [p.label for p in plan.widest_passes()] == ["widest_classes=262145", "widest_rows=4097"]
    assert "rows=65537" in [p.label for p in plan.passes()]
    assert "max_rows" not in sizes.plan_for("ci").as_dict()  # a real device keeps the whole menu


def test_an_interpreted_target_runs_in_a_worker_of_its_own():
    desc = {"target": "mykernels:softmax", "op": "softmax", "backend": "torch"}
    assert _needs_own_worker(desc_key(desc | {"device": "triton-interpret"}))
    assert not _needs_own_worker(desc_key(desc | {"device": "cpu"}))


@needs_triton
def test_bfloat16_is_refused_with_the_reason_and_recorded_unsupported():
    with pytest.raises(UsageError, match="cannot model bfloat16"):
        target_request("mykernels:softmax", "softmax", "torch", "triton-interpret", dtypes=["bfloat16"])
    request = target_request("mykernels:softmax", "softmax", "torch", "triton-interpret")
    assert request.dtypes == ("float16", "float32", "float64") and request.unsupported == ("bfloat16",)


@needs_triton
def test_the_builtin_column_is_certified_under_the_interpreter():
    if ADAPTER.device != "triton-interpret":
        pytest.skip(f"triton-softmax runs on {ADAPTER.device} here")
    cert = certify("triton-softmax", "softmax", dtypes=["float32"], properties=["definition"],
                   settings=Settings(jobs=2, speed=True), progress=QUIET)
    assert cert["certified"], cert["reasons"]
    assert cert["device"] == "triton-interpret" and "interpreted numerics" in cert["description"]
    assert cert["unsupported_dtypes"] == ["bfloat16"] and "bfloat16" in cert["unsupported_reasons"]["bfloat16"]
    assert cert["speed"] == {"measured": False, "reason": INTERPRET.no_speed}
    assert cert["library_versions"]["triton"] and cert["library_versions"]["numerics"].startswith("interpreted")
    left = cert["sizes"]["left_out"][0]
    assert left["rows"] == [65535, 65536, 65537] and "ms per row, measured" in left["reason"]
    drawn = cert["properties"][0]["dtypes"]["float32"]["sizes"]
    assert "1x262145" in drawn and "4097x1" in drawn and not any(s.startswith("6553") for s in drawn)


@needs_triton
def test_each_triton_mutant_is_killed_by_its_property():
    """One certify_many for the mutants, so that they share the two workers."""
    mutants = [e for e in TRITON_ENTRIES if e.broken]
    requests = [zoo.request(e, seed=0, properties=e.caught_by) for e in mutants]
    certs = certify_many(requests, Settings(profile=zoo.MUTANT_PROFILE, jobs=2), progress=QUIET)
    survivors = [f"{e.name}: {c['verdict']}, killed by {zoo.killers(c, e)}" for e, c in zip(mutants, certs)
                 if not (zoo.rejected(c, e) and set(e.caught_by) <= set(zoo.killers(c, e)))]
    assert len(mutants) >= 3 and survivors == []


@needs_triton
def test_the_correct_online_triton_softmax_is_certified():
    entry = next(e for e in TRITON_ENTRIES if not e.broken and e.op == "softmax")
    request = zoo.request(entry, seed=0, properties=("masked_entries",), dtypes=("float32",))
    cert = certify_many([request], Settings(jobs=2), progress=QUIET)[0]
    assert cert["certified"], cert["reasons"]
