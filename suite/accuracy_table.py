"""The accuracy table of docs/accuracy-table.md: every built-in backend, op and dtype.

    python -m suite.accuracy_table [--examples N] [--seed S] [--output docs/accuracy-table.md]

Runs the graded accuracy properties (``ulp_accuracy``, ``argmax_accuracy``,
``low_precision_rounding``) and the required ``normwise_bound`` with a fixed
seed, and writes max and 99th-percentile ULP errors per op, dtype and input
regime with the grades. ``accuracy_rows`` returns the same figures for
``softmax-suite run``'s conformance matrix.
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from hypothesis import settings as Settings

from suite.adapter import Adapter, builtin_adapters
from suite.properties import all_properties
from suite.properties.accuracy import ACCURACY_OPS, GRADE_A, GRADE_B_FACTOR, REGIMES
from suite.runner import SKIP, run_property

DEFAULT_EXAMPLES = 60
DEFAULT_SEED = 20210


def accuracy_rows(adapters: list[Adapter], examples: int = DEFAULT_EXAMPLES, seed: int = DEFAULT_SEED) -> list[dict]:
    """One dict per (adapter, op, dtype): the stats and grades of the accuracy properties."""
    props = all_properties()
    settings = Settings(max_examples=examples, derandomize=False, database=None, deadline=None)
    rows = []
    for adapter in adapters:
        if not adapter.available:
            continue
        for op in ACCURACY_OPS:
            if op not in adapter.ops:
                continue
            for dtype in adapter.dtypes:
                row = {"implementation": adapter.name, "op": op, "dtype": dtype}
                for name in ("normwise_bound", "ulp_accuracy", "argmax_accuracy", "low_precision_rounding", "subnormal_outputs"):
                    prop = props[name]
                    if op not in prop.ops:
                        continue
                    outcome = run_property(prop, adapter, op, dtype, settings=settings, seed=seed)
                    row[name] = outcome
                rows.append(row)
    return rows


def _fmt(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "inf"
    return f"{value:.3g}"


def _argmax_cell(outcome) -> str:
    if not outcome.grade or outcome.grade == "F":
        return outcome.grade or "n/a"
    ratio = outcome.stats.get("max_argmax_ratio")
    return f"{outcome.grade} ({_fmt(ratio)} of the allowance, {_fmt(outcome.stats.get('max_argmax_ulp'))} ULP)"


def render(rows: list[dict], examples: int, seed: int) -> str:
    lines = [
        "# Accuracy of the built-in backends",
        "",
        f"Produced by `python -m suite.accuracy_table --examples {examples} --seed {seed}` "
        "(do not edit by hand). Errors are componentwise, in ULPs of the output dtype at the exact "
        "value (subnormal-aware), over outputs whose exact value is a normal number, against the "
        "extended-precision oracle. *Well-scaled* rows are the `moderate` (|x| <= 10) and `ties` "
        "(|x| <= 100) regimes. The grade is decided on their *mixed* error, min(error against f(x), "
        "error against f(fl(x - max x))), which excuses the one rounding the shifted algorithm cannot "
        "avoid and nothing else: A <= " + f"{GRADE_A['float32']:g}" + " ULP (float32, float64), <= "
        + f"{GRADE_A['float16']:g}" + " ULP (float16, bfloat16); B within " + f"{GRADE_B_FACTOR}" + " times that; "
        "C beyond (docs/error-analysis.md, sec. 4). *plain*: the error against f(x) itself. "
        "`normwise` is the required shifted-algorithm bound: pass or fail, and (softmax) the worst "
        "row's normwise error as a fraction of the bound. *argmax*: log_softmax at the row maximum "
        "(log1p(s) vs log(1 + s)), in brackets the worst error as a fraction of the allowance (what "
        "the grade is decided on) and in ULPs. *low precision*: float16/bfloat16 "
        "outputs correctly rounded or not (n/a: float32, float64). *subnormal outputs*: softmax entries whose exact value is "
        "subnormal. LSE outputs that cancel (|LSE| < (|max| + log S)/16) are not graded. Grade F: an "
        "output NaN or infinite where the exact value is finite.",
        "",
        "| implementation | op | dtype | normwise | grade | graded: mixed max / p99 | well-scaled plain max | "
        "all regimes plain max / p99 | argmax (log_softmax) | low precision | subnormal outputs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        nb = r.get("normwise_bound")
        ua = r.get("ulp_accuracy")
        am = r.get("argmax_accuracy")
        lp = r.get("low_precision_rounding")
        sub = r.get("subnormal_outputs")
        st = ua.stats if ua else {}
        normwise = nb.status if nb else "–"
        if nb and "max_normwise_over_bound" in nb.stats:
            normwise += f" ({nb.stats['max_normwise_over_bound']:.2g})"
        lines.append(
            f"| {r['implementation']} | {r['op']} | {r['dtype']} | {normwise} | {ua.grade if ua else '–'} | "
            f"{_fmt(st.get('max_ulp_mixed.graded'))} / {_fmt(st.get('p99_ulp_mixed.graded'))} | "
            f"{_fmt(st.get('max_ulp.graded'))} | "
            f"{_fmt(st.get('max_ulp'))} / {_fmt(st.get('p99_ulp'))} | "
            f"{_argmax_cell(am) if am else ''} | "
            f"{(lp.grade or ('n/a' if lp.status == SKIP else '')) if lp else ''} | {sub.observation if sub else ''} |"
        )
    lines += ["", "## Per regime (max ULP)", "", "| implementation | op | dtype | " + " | ".join(REGIMES) + " |",
              "|---|---|---|" + "---|" * len(REGIMES)]
    for r in rows:
        st = r["ulp_accuracy"].stats if r.get("ulp_accuracy") else {}
        cells = " | ".join(_fmt(st.get(f"max_ulp.{g}")) for g in REGIMES)
        lines.append(f"| {r['implementation']} | {r['op']} | {r['dtype']} | {cells} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--output", default="docs/accuracy-table.md")
    parser.add_argument("--implementations", default="", help="comma-separated built-in names (default: all available)")
    args = parser.parse_args(argv)
    chosen = {n.strip() for n in args.implementations.split(",") if n.strip()}
    adapters = [a for a in builtin_adapters() if not chosen or a.name in chosen]
    start = time.time()
    rows = accuracy_rows(adapters, args.examples, args.seed)
    text = render(rows, args.examples, args.seed)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text)
    print(text)
    print(f"wrote {args.output} in {time.time() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
