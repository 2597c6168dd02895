"""The verdict: which outcomes reject an implementation, decided here once.

``certify`` and ``run`` (suite/certify.py), the zoo (suite/zoo.py) and the
pytest plugin (suite/pytest_plugin.py) all ask :func:`rejects` of each outcome
and :func:`certification_verdict` of the whole. A certification ends in one of
three verdicts, each with its exit status:

* ``certified`` (exit 0): nothing rejects and the suite decided every outcome;
* ``not certified`` (exit 1): some outcome rejects (a failure of the
  implementation: a property it broke, a crash, a hang);
* ``undecided`` (exit 3): nothing rejects, but the suite itself raised on some
  property and dtype (an outcome of status ``suite error``): the suite could
  not decide, and says so rather than blame or clear the implementation.
  A rejection elsewhere still decides: such a certificate is ``not certified``
  and lists its suite errors beside the failures.

Two policies:

* ``default``: a required property that fails rejects; so does a crash or a
  hang in any property (the implementation, not the property, failed).
* ``strict``: every property that fails rejects, and a graded property rejects
  when its grade is not one of the grades it declares passing
  (``@prop(passing_grades=...)``: "A" for ulp_accuracy, "accurate" for
  argmax_accuracy). A property that declares none is descriptive
  (low_precision_rounding's "faithful", "correctly rounded"): its grade never
  rejects.
"""
from __future__ import annotations

from suite.runner import ERROR, FAIL, PASS

POLICIES = ("default", "strict")
CERTIFIED, NOT_CERTIFIED, UNDECIDED = "certified", "not certified", "undecided"
EXIT_STATUS = {CERTIFIED: 0, NOT_CERTIFIED: 1, UNDECIDED: 3}
# Failures of the implementation itself, which reject under every policy.
IMPLEMENTATION_FAILURES = ("crash", "timeout")


def grade_rejected(grade: str | None, passing_grades: tuple[str, ...] | None, *, policy: str) -> bool:
    """Whether ``grade`` rejects under ``policy``: only under strict, and only for a property that
    declares its passing grades."""
    return policy == "strict" and bool(grade) and passing_grades is not None and grade not in passing_grades


def rejects(
    status: str,
    *,
    required: bool,
    policy: str,
    failure_kind: str | None = None,
    grade: str | None = "",
    passing_grades: tuple[str, ...] | None = None,
) -> bool:
    """Whether one outcome (one property on one dtype) rejects the implementation under ``policy``."""
    if status == FAIL:
        return failure_kind in IMPLEMENTATION_FAILURES or required or policy == "strict"
    return status == PASS and grade_rejected(grade, passing_grades, policy=policy)


def passing_grades_of(property_name: str) -> tuple[str, ...] | None:
    """The passing grades a registered property declares (None: not graded, or descriptive)."""
    from suite.properties import all_properties

    prop = all_properties().get(property_name)
    return prop.passing_grades if prop is not None else None


def outcome_rejects(property_name: str, outcome: dict, *, required: bool, policy: str) -> bool:
    """:func:`rejects` for one outcome as a certificate stores it (a property's ``dtypes`` entry)."""
    return rejects(
        outcome["status"],
        required=required,
        policy=policy,
        failure_kind=outcome.get("failure_kind"),
        grade=outcome.get("grade"),
        passing_grades=passing_grades_of(property_name),
    )


def rejecting_properties(cert: dict) -> list[str]:
    """The properties of a certificate that reject it under the policy it was made with."""
    return [
        p["name"]
        for p in cert["properties"]
        if any(outcome_rejects(p["name"], o, required=p["required"], policy=cert["policy"]) for o in p["dtypes"].values())
    ]


def certification_verdict(*, rejected: bool, suite_errors: int) -> str:
    """The verdict of a whole certification: whether any outcome rejects, and how many outcomes the
    suite could not decide (status ``suite error``)."""
    if rejected:
        return NOT_CERTIFIED
    return UNDECIDED if suite_errors else CERTIFIED


def suite_errors_of(cert: dict) -> list[dict]:
    """The outcomes of a certificate that the suite could not decide: property, dtype, message."""
    return [
        {"property": p["name"], "dtype": dtype, "message": o.get("message", "")}
        for p in cert["properties"]
        for dtype, o in p["dtypes"].items()
        if o["status"] == ERROR
    ]


# The accuracy grade of what passes, best first (docs/error-analysis.md sec. 5): every measured output
# the exact value correctly rounded; within one ULP (faithful); within what the shifted algorithm
# reaches once the rounding of x - max is excused (ulp_accuracy's grade A); within the certified
# tolerance only (a sound design: 16-bit intermediates, a streaming log-add-exp). OUTSIDE: a
# property that compares with the exact value failed on the dtype.
CORRECTLY_ROUNDED, FAITHFUL, SHIFTED, TOLERANCE, OUTSIDE = (
    "correctly rounded", "faithful", "shifted-algorithm", "certified tolerance", "outside tolerance")
ACCURACY_LEVELS = (CORRECTLY_ROUNDED, FAITHFUL, SHIFTED, TOLERANCE, OUTSIDE)
# The required properties whose failure means an output outside the certified tolerance.
TOLERANCE_PROPERTIES = ("definition", "normwise_bound", "regime_masks", "regime_ties", "regime_binades",
                        "regime_class_ids", "regime_tiles", "regime_temperatures")


def accuracy_levels(cert: dict) -> dict[str, str]:
    """The accuracy level per dtype run, from the outcomes of ulp_accuracy (the plain ULP error on
    well-scaled rows and its grade), low_precision_rounding (16-bit outputs: whether any misrounded) and
    the properties that compare with the exact value; a dtype with no accuracy measurement (an op
    without a normwise model, temperature_softmax) is at most TOLERANCE."""
    from suite.runner import FAIL, PASS

    by_name = {p["name"]: p.get("dtypes", {}) for p in cert.get("properties", [])}
    levels = {}
    for dtype in cert.get("dtypes", []):
        if any(by_name.get(name, {}).get(dtype, {}).get("status") == FAIL for name in TOLERANCE_PROPERTIES):
            levels[dtype] = OUTSIDE
            continue
        ulp = by_name.get("ulp_accuracy", {}).get(dtype, {})
        rounding = by_name.get("low_precision_rounding", {}).get(dtype, {})
        if ulp.get("status") != PASS:
            compared = any(by_name.get(name, {}).get(dtype, {}).get("status") == PASS for name in TOLERANCE_PROPERTIES)
            if compared:  # no grade where nothing compared the outputs with the exact value (--properties)
                levels[dtype] = TOLERANCE
            continue
        worst = (ulp.get("stats") or {}).get("max_ulp.graded", float("inf"))
        # 16-bit outputs: low_precision_rounding's own examples must all be correctly rounded too
        exact = worst <= 0.5 and (rounding.get("status") != PASS or rounding.get("grade") == "correctly rounded")
        levels[dtype] = (CORRECTLY_ROUNDED if exact else FAITHFUL if worst < 1 else
                         SHIFTED if ulp.get("grade") == "A" else TOLERANCE)
    return levels


def worst_level(levels: dict[str, str]) -> str:
    """The worst of the levels (the one a column is graded by), "" where there are none."""
    return max(levels.values(), key=ACCURACY_LEVELS.index, default="")
