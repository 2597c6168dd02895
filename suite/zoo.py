"""Self-validation: the zoo of broken implementations the suite must reject, and of
correct ones it must certify.

A verification suite can be wrong too: a property that cannot fail, a tolerance
that passes anything, a statistical test that flakes. The zoo measures the suite
the way mutation testing measures a test suite. Every module in
``implementations/broken/`` (a mutant: one realistic bug class) and
``implementations/correct/`` (correct, written in an unusual way) declares its
entries in a module-level literal, read here without importing the module::

    ZOO = [
        {"function": "softmax", "op": "softmax", "backend": "numpy",
         "dtypes": ["float32"], "caught_by": ["normwise_bound"]},
    ]

``caught_by`` (broken entries only) names the properties that must fail on it;
``dtypes`` restricts a broken entry to where its bug shows; ``policy: "strict"``
marks a bug that only a graded, non-required property sees (it is rejected under
``--policy strict``). Correct entries have no ``caught_by`` and must be certified
on every dtype their backend supports, for every seed.

:func:`evaluate` certifies every mutant once (profile ``detect``: ci's examples,
no shrinking, since only the verdict counts) with every property of its op, and
every correct entry over several seeds (profile ``sweep``: 5 examples per
property and seed; one dtype per seed, in rotation: see :func:`sweep_plan`), and returns the figures the report of
``softmax-suite run --zoo`` shows: the kill rate, the mutants each property
kills, the required properties without a mutant, and the false rejections.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from suite.adapter import UsageError
from suite.ops import OPS

ROOT = Path(__file__).resolve().parent.parent
ZOO_PACKAGES = ("implementations.broken", "implementations.correct")
MUTANT_PROFILE = "detect"
SWEEP_PROFILE = "sweep"
DEFAULT_SEEDS = 20
_KEYS = {"function", "op", "backend", "device", "dtypes", "caught_by", "policy", "forward_only"}


@dataclass(frozen=True)
class Entry:
    """One zoo entry: a function of a zoo module, certified as ``op`` on ``backend``."""

    module: str
    function: str
    op: str
    broken: bool  # a mutant that must be rejected, or a correct implementation that must be certified
    backend: str = "numpy"
    device: str = "cpu"
    dtypes: tuple[str, ...] | None = None
    caught_by: tuple[str, ...] = ()
    policy: str = "default"
    forward_only: bool = False  # certified as ``certify --forward-only`` would (no gradient properties)

    @property
    def target(self) -> str:
        return f"{self.module}:{self.function}"

    @property
    def name(self) -> str:
        """Short and unique: ``naive_softmax:softmax`` (a module may hold several entries)."""
        return f"{self.module.rsplit('.', 1)[-1]}:{self.function}"


def _literal_zoo(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "ZOO" for t in node.targets):
            return ast.literal_eval(node.value)
    return None


def entries(kind: str | None = None) -> list[Entry]:
    """Every zoo entry (``kind``: "broken", "correct" or None for both), in file order.

    Raises ``ValueError`` for a malformed declaration: the zoo is the suite's own
    test data, and a typo in it must not silently drop a mutant."""
    from suite.properties import all_properties

    registry = all_properties()
    found: list[Entry] = []
    for package in ZOO_PACKAGES:
        directory = ROOT.joinpath(*package.split("."))
        is_broken = package.endswith("broken")
        if kind is not None and is_broken != (kind == "broken"):
            continue
        for path in sorted(directory.glob("*.py")):
            if path.name == "__init__.py":
                continue
            declared = _literal_zoo(path)
            where = f"{package}.{path.stem}"
            if declared is None:
                raise ValueError(f"{where} declares no ZOO list")
            for raw in declared:
                unknown = set(raw) - _KEYS
                if unknown:
                    raise ValueError(f"{where}: unknown ZOO keys {sorted(unknown)}")
                entry = Entry(
                    module=where,
                    function=raw["function"],
                    op=raw["op"],
                    broken=is_broken,
                    backend=raw.get("backend", "numpy"),
                    device=raw.get("device", "cpu"),
                    dtypes=tuple(raw["dtypes"]) if raw.get("dtypes") else None,
                    caught_by=tuple(raw.get("caught_by", ())),
                    policy=raw.get("policy", "default"),
                    forward_only=raw.get("forward_only", False),
                )
                _check(entry, registry)
                found.append(entry)
    return found


def _check(entry: Entry, registry) -> None:
    if entry.op not in OPS:
        raise ValueError(f"{entry.name}: unknown op {entry.op!r}")
    if entry.broken and not entry.caught_by:
        raise ValueError(f"{entry.name}: a broken entry must name the properties that catch it (caught_by)")
    if not entry.broken and (entry.caught_by or entry.policy != "default"):
        raise ValueError(f"{entry.name}: a correct entry has no caught_by or policy")
    for name in entry.caught_by:
        if name not in registry or entry.op not in registry[name].ops:
            raise ValueError(f"{entry.name}: {name!r} is not a property of {entry.op}")


def request(entry: Entry, seed: int | None = None, properties=None, dtypes=None):
    """The certification request for ``entry`` (``softmax-suite certify`` builds the same)."""
    from suite.certify import target_request

    r = target_request(entry.target, entry.op, entry.backend, entry.device, dtypes or entry.dtypes, forward_only=entry.forward_only)
    r.seed = seed
    r.properties = tuple(properties) if properties is not None else _all_but_error_profile(entry.op)
    return r


def glue(entry: Entry):
    """The built-in adapter whose backend glue ``entry`` is certified through."""
    import importlib

    from suite.adapter import BACKEND_GLUE

    return importlib.import_module(BACKEND_GLUE[(entry.backend, entry.device)]).ADAPTER


def supported_dtypes(entry: Entry) -> tuple[str, ...]:
    """The dtypes ``entry`` runs on: its own list, or every dtype its backend supports."""
    return entry.dtypes or glue(entry).dtypes


def sweep_plan(entry: Entry, seeds: int) -> list[tuple[int, str]]:
    """(seed, dtype) for the false-rejection sweep: seed s certifies the s-th dtype in rotation,
    so that 20 seeds give each of 4 dtypes 5 seeds, at a quarter of the cost of every dtype
    at every seed (gradient properties on JAX compile once per shape, and cost minutes)."""
    dtypes = supported_dtypes(entry)
    return [(s, dtypes[s % len(dtypes)]) for s in range(seeds)]


def _all_but_error_profile(op: str) -> tuple[str, ...]:
    """Every property of ``op``: the error profile is a measurement, not a check."""
    from suite.properties import all_properties

    return tuple(name for name, p in all_properties().items() if op in p.ops and p.opt_in is None)


def killers(cert: dict, entry: Entry) -> list[str]:
    """The properties that reject ``entry`` in ``cert``: failed ones (a crash or hang counts, a
    suite error does not), and under a strict entry also graded ones below the strict grade."""
    from suite.runner import FAIL
    from suite.verdict import grade_rejected, passing_grades_of

    found = []
    for p in cert["properties"]:
        failed = any(o["status"] == FAIL for o in p["dtypes"].values())
        passing = passing_grades_of(p["name"])
        graded = any(grade_rejected(o.get("grade"), passing, policy=entry.policy) for o in p["dtypes"].values())
        if failed or graded:
            found.append(p["name"])
    return found


def rejected(cert: dict, entry: Entry) -> bool:
    """Whether ``certify`` rejects ``entry`` under its policy (an undecided certificate does not)."""
    from suite.verdict import NOT_CERTIFIED

    if cert["verdict"] == NOT_CERTIFIED:
        return True
    return entry.policy == "strict" and bool(killers(cert, entry))


def evaluate(
    zoo: list[Entry] | None = None,
    seeds: int = DEFAULT_SEEDS,
    jobs: int | None = None,
    progress=None,
    timeout: float | None = None,
) -> dict:
    """Certify every mutant once and every correct entry over ``seeds`` seeds; the zoo report."""
    from suite.certify import Progress, Settings, certify_many
    from suite.properties import all_properties

    zoo = entries() if zoo is None else zoo
    progress = progress if progress is not None else Progress(quiet=True)
    mutants = [e for e in zoo if e.broken]
    correct = [e for e in zoo if not e.broken]
    mutant_certs = certify_many([request(e, 0) for e in mutants], Settings(profile=MUTANT_PROFILE, timeout=timeout, jobs=jobs), progress=progress) if mutants else []
    sweep = [(e, s, d) for e in correct for s, d in sweep_plan(e, seeds)]
    sweep_requests = [request(e, s, dtypes=(d,)) for e, s, d in sweep]
    sweep_certs = certify_many(sweep_requests, Settings(profile=SWEEP_PROFILE, timeout=timeout, jobs=jobs), progress=progress) if sweep else []

    registry = all_properties()
    per_property: dict[str, list[str]] = {name: [] for name in registry}
    mutant_rows = []
    for entry, cert in zip(mutants, mutant_certs):
        found = killers(cert, entry)
        for name in found:
            per_property[name].append(entry.name)
        missing = [name for name in entry.caught_by if name not in found]
        # A property that errors out has found a bug in the suite, not in the mutant.
        suite_errors = sorted({e["property"] for e in cert["suite_errors"]})
        mutant_rows.append(
            {
                "entry": entry.name,
                "target": entry.target,
                "op": entry.op,
                "backend": entry.backend,
                "dtypes": list(entry.dtypes or cert["dtypes"]),
                "policy": entry.policy,
                "expected": list(entry.caught_by),
                "killed_by": found,
                "killed": rejected(cert, entry),
                "expected_seen": not missing,
                "missing": missing,
                "suite_errors": suite_errors,
            }
        )
    correct_rows = []
    for entry in correct:
        certs = [c for (e, _, _), c in zip(sweep, sweep_certs) if e is entry]
        false = [{"seed": c["seed"], "dtype": c["dtypes"][0] if c["dtypes"] else "", "reasons": c["reasons"]} for c in certs if rejected(c, entry)]
        errors = sorted({e["property"] for c in certs for e in c["suite_errors"]})
        correct_rows.append(
            {"entry": entry.name, "target": entry.target, "op": entry.op, "backend": entry.backend, "seeds": len(certs),
             "false_rejections": false, "suite_errors": errors}
        )
    required = [name for name, p in registry.items() if p.required]
    killed = sum(1 for row in mutant_rows if row["killed"] and row["expected_seen"])
    return {
        "mutant_profile": MUTANT_PROFILE,
        "sweep_profile": SWEEP_PROFILE,
        "seeds": seeds,
        "mutants": mutant_rows,
        "kill_rate": killed / len(mutant_rows) if mutant_rows else None,
        "bug_classes": len({e.module for e in mutants}),
        "per_property": {name: per_property[name] for name in registry},
        "required_without_mutant": [name for name in required if not per_property[name]],
        "correct": correct_rows,
        "certifications_of_correct": len(sweep_certs),
        "false_rejections": sum(len(row["false_rejections"]) for row in correct_rows),
        "suite_errors": sum(len(row["suite_errors"]) for row in mutant_rows + correct_rows),
    }


def check_seeds(seeds: int) -> int:
    if seeds < 1:
        raise UsageError(f"--zoo-seeds must be at least 1, not {seeds}")
    return seeds
