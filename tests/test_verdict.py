"""The verdict (suite/verdict.py) under both policies, and that every caller asks it.

Each case is one outcome and whether it rejects under default and under strict; the same cases
go through the certificate's path (certify's assembly and the CLI's "failed:" list) and the
pytest plugin's ``Certification.certified``, which must agree with :func:`rejects`.
"""
from __future__ import annotations

import pytest

from suite import verdict
from suite.properties import all_properties
from suite.pytest_plugin import Certification
from suite.runner import FAIL, IMPL_DEFINED, PASS, SKIP, Outcome

# (label, property, status, failure kind, grade, rejects under default, rejects under strict)
CASES = [
    ("required property fails", "definition", FAIL, "property", "", True, True),
    ("required property passes", "definition", PASS, None, "", False, False),
    ("graded property fails (grade F)", "ulp_accuracy", FAIL, "property", "F", False, True),
    ("grade B", "ulp_accuracy", PASS, None, "B", False, True),
    ("grade A", "ulp_accuracy", PASS, None, "A", False, False),
    ("argmax inaccurate", "argmax_accuracy", PASS, None, "inaccurate", False, True),
    ("argmax accurate", "argmax_accuracy", PASS, None, "accurate", False, False),
    ("descriptive grade", "low_precision_rounding", PASS, None, "not correctly rounded", False, False),
    ("not-required property crashes", "ulp_accuracy", FAIL, "crash", "", True, True),
    ("not-required property hangs", "argmax_accuracy", FAIL, "timeout", "", True, True),
    ("behaviour observed", "fully_masked_row", IMPL_DEFINED, None, "", False, False),
    ("skipped", "definition", SKIP, None, "", False, False),
]


@pytest.mark.parametrize("label, name, status, kind, grade, default, strict", CASES, ids=[c[0] for c in CASES])
def test_rejects_under_both_policies(label, name, status, kind, grade, default, strict):
    prop = all_properties()[name]
    for policy, expected in (("default", default), ("strict", strict)):
        got = verdict.rejects(status, required=prop.required, policy=policy, failure_kind=kind, grade=grade, passing_grades=prop.passing_grades)
        assert got == expected, f"rejects={got}, but should be {expected} [{label}, policy {policy}]"


def _certificate(name: str, outcome: dict, policy: str) -> dict:
    prop = all_properties()[name]
    return {"policy": policy, "properties": [{"name": name, "required": prop.required, "dtypes": {"float32": outcome}}]}


@pytest.mark.parametrize("label, name, status, kind, grade, default, strict", CASES, ids=[c[0] for c in CASES])
def test_certificate_and_plugin_paths_agree(label, name, status, kind, grade, default, strict):
    prop = all_properties()[name]
    for policy, expected in (("default", default), ("strict", strict)):
        stored = {"status": status, "failure_kind": kind, "grade": grade, "message": "m"}
        assert (verdict.rejecting_properties(_certificate(name, stored, policy)) == [name]) == expected, label
        outcome = Outcome(property=name, op="softmax", dtype="float32", implementation="x", status=status, grade=grade)
        plugin = Certification("softmax", "x", [outcome], {name: prop.required}, policy)
        if kind in verdict.IMPLEMENTATION_FAILURES:
            continue  # the plugin runs in the test process: a crash there is the test's own error
        assert plugin.certified == (not expected), label


def test_graded_properties_declare_their_passing_grades_or_are_descriptive():
    """Every graded property is listed here: a new one must say which grades pass under strict."""
    graded = {name: p.passing_grades for name, p in all_properties().items() if p.graded}
    assert graded == {"ulp_accuracy": ("A",), "argmax_accuracy": ("accurate",), "low_precision_rounding": None}
