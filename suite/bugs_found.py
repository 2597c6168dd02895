"""Defects this suite found in real libraries, for the published matrix's "Bugs found".

Each record is a minimal repro in the library's own public API (``code`` sets
``got``) and the exact answer from the suite's oracle (``exact`` sets
``exact``), both run again whenever the section is written
(:func:`bugs_section`), so the page says what the installed version does now;
a library that is not installed here keeps the versions it was last seen with.
``link`` is a public report of the same defect, or None when the trackers were
searched and none was found (``searched`` says where and when).

Add a defect here when the battery or a certification finds one, with the
minimal input it shrank to.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Bug:
    key: str
    library: str  # the import name whose version is reported
    title: str
    code: str  # sets ``got``: the library's own public API on the minimal input
    exact: str  # sets ``exact``: suite.oracle on the same input (long double or mpmath)
    found_by: str  # the property and regime that found it
    seen_with: str  # versions it was last seen with
    link: str | None = None
    searched: str = ""  # where the trackers were searched, or what the linked report says
    rtol: float = 1e-3  # got within rtol of exact: fixed (a sampler's noise needs more)


BUGS = [
    Bug(
        key="xla-fused-temperature-softmax-nan",
        library="jax",
        title="jax.jit(lambda x, t: jax.nn.softmax(x / t)) returns NaN for logits near the float32 maximum "
        "(XLA on the CPU fuses the division into the max and exp of softmax); x / t is finite and the answer uniform",
        code=(
            "import jax\n"
            "x = np.full((64,), 3.36879526214505e38, dtype=np.float32)\n"
            "got = np.asarray(jax.jit(lambda x, t: jax.nn.softmax(x / t))(x, 1.984375))"
        ),
        exact=(
            "from suite import oracle\n"
            "exact = oracle.temperature_softmax(np.full((64,), 3.36879526214505e38, dtype=np.float32), 1.984375)"
        ),
        found_by="definition and finite_outputs, temperature_softmax, float32 and float64, regime 'extreme'",
        seen_with="jax 0.10.2, jaxlib 0.10.2 (CPU)",
        link="https://github.com/openxla/xla/pull/44738",
        searched="the XLA pull request for jax-ml/jax#38609 (closed, not merged): XLA recomputes x * (1/t) in both "
        "softmax fusions and the rounding residual overflows exp",
    ),
    Bug(
        key="jax-categorical-bfloat16-bias",
        library="jax",
        title="jax.random.categorical on bfloat16 logits draws bfloat16 Gumbel noise (7 random mantissa bits, "
        "bounded at 4.85): category 1 of [0, -6] (p = 0.00247) is drawn at about 72% of its rate",
        code=(
            "import jax, ml_dtypes\n"
            "s = np.asarray(jax.random.categorical(jax.random.key(0), np.array([0., -6.], dtype=ml_dtypes.bfloat16), shape=(10**6,)))\n"
            "got = np.array((s == 1).mean())"
        ),
        exact="exact = np.array(1.0 / (1.0 + np.exp(6.0)))  # softmax([0, -6])[1], in float64",
        found_by="gumbel_max_distribution, gumbel_max, bfloat16 (chi-square, false-alarm rate 1e-7)",
        seen_with="jax 0.10.2 (CPU)",
        link="https://github.com/jax-ml/jax/issues/30879",
        searched="a related report (bfloat16 and float32 logits draw different categories, closed); the bias in "
        "the rates is not in it. jax-ml/jax#26974 (open) would sample the uniform more finely",
        rtol=0.1,  # 5 standard errors of 10**6 draws at p = 0.00247: sampling noise is not a reproduction
    ),
]


def _run(code: str, name: str):
    scope: dict = {"np": np}
    exec(code, scope)  # noqa: S102 - the suite's own repro snippets, listed above
    return scope[name]


def _version(library: str) -> str | None:
    try:
        module = importlib.import_module(library)
    except Exception:  # noqa: BLE001 - a library that is not installed here
        return None
    return getattr(module, "__version__", "unknown")


def check(bug: Bug) -> dict:
    """Run the repro and the oracle now: {"version", "got", "exact", "reproduces"} (or "error")."""
    version = _version(bug.library)
    if version is None:
        return {"version": None}
    try:
        got, exact = np.asarray(_run(bug.code, "got")), np.asarray(_run(bug.exact, "exact"))
    except Exception as exc:  # noqa: BLE001 - a repro that no longer runs is reported, not fatal
        return {"version": version, "error": f"{type(exc).__name__}: {exc}"}
    same = got.shape == exact.shape and np.allclose(got.astype(np.float64), exact.astype(np.float64), rtol=bug.rtol, equal_nan=False)
    return {"version": version, "got": got, "exact": exact, "reproduces": not same}


def _short(a: np.ndarray) -> str:
    flat = a.reshape(-1)
    shown = np.array2string(flat[:4].astype(np.float64), precision=6, separator=", ")
    return shown if flat.size <= 4 else f"{shown[:-1]}, ...] ({flat.size} entries)"


def bugs_section(bugs=BUGS) -> str:
    """The "Bugs found" section in Markdown, each repro run again here."""
    lines = ["## Bugs found", "", "Each repro is the library's own public API on the minimal input the suite shrank to; "
             "*exact* is the suite's extended-precision oracle on the same input. Both ran when this page was written.", ""]
    for bug in bugs:
        now = check(bug)
        if now.get("version") is None:
            status = f"not re-run here ({bug.library} is not installed); seen with {bug.seen_with}"
        elif "error" in now:
            status = f"{bug.library} {now['version']}: the repro no longer runs ({now['error']})"
        else:
            state = "reproduces" if now["reproduces"] else "no longer reproduces"
            status = f"{state} with {bug.library} {now['version']}: got {_short(now['got'])}, exact {_short(now['exact'])}"
        link = f"public report: {bug.link} ({bug.searched})" if bug.link else f"no public report found ({bug.searched})"
        lines += [
            f"### {bug.title}", "",
            f"- found by: {bug.found_by}",
            f"- {status}",
            f"- {link}",
            "", "```python", "import numpy as np", bug.code, "```", "",
        ]
    return "\n".join(lines)
