"""Hypothesis profiles shared by the CLI, the pytest plugin and the suite's own tests.

  dev       quick local iteration (15 examples per property)
  ci        derandomized, no deadline: the same examples on every run (25 per property)
  thorough  many examples, for a release or a new implementation (400 per property)
  detect    ci's examples without shrinking: whether a property fails, not its minimal
            counterexample (the zoo's mutants, where only the verdict counts)
  sweep     5 examples per property, for running many seeds (the zoo's correct
            implementations over 20 seeds: 100 examples per property in all)

``softmax-suite certify`` always runs with ``database=None`` and an explicit
seed, so the same ``--seed`` and ``--profile`` give the same examples and the
same verdict.
"""
from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

# Every phase but explain: the reports show the suite's own labelled draws, never Hypothesis's
# explanation, and on a failure that phase reruns the test dozens of times more (4 s of 23 for a
# kernel-scale failure of scipy's float16 log_softmax).
PHASES = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink]

PROFILES: dict[str, dict] = {
    "dev": dict(max_examples=15, deadline=None, phases=PHASES),
    "ci": dict(
        max_examples=25,
        phases=PHASES,
        derandomize=True,
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    ),
    "thorough": dict(max_examples=400, deadline=None, phases=PHASES, suppress_health_check=list(HealthCheck)),
}
PROFILES["detect"] = dict(PROFILES["ci"], phases=[p for p in PHASES if p is not Phase.shrink])
PROFILES["sweep"] = dict(PROFILES["ci"], max_examples=5)

def register() -> None:
    """Register every profile with Hypothesis (idempotent)."""
    for name, options in PROFILES.items():
        settings.register_profile(name, **options)


def certification_settings(name: str) -> settings:
    """The profile ``name`` made reproducible: no example database, nothing printed."""
    if name not in PROFILES:
        from suite.adapter import UsageError

        raise UsageError(f"unknown profile {name!r}; choose one of: {', '.join(PROFILES)}")
    options = dict(PROFILES[name])
    options.update(database=None, print_blob=False)
    return settings(**options)
