"""Calibrate the samplers' goodness-of-fit test: false rejections, power, and the null's tail.

    python scripts/sampler_calibration.py null  [--seeds 200] [--dtypes float32] [--samplers ...]
    python scripts/sampler_calibration.py power [--seeds 200]
    python scripts/sampler_calibration.py tail  [--reps 1000000]

null   For every built-in sampler (numpy-reference, torch-cpu, jax; gumbel_max and the
       argmax of gumbel_softmax) run the whole distribution battery (every logit vector)
       with seed bases 0..seeds-1 instead of the certification's fixed base, and count
       rejections. Also reports how many p-values fall below 1e-2 and 1e-3 and a
       Kolmogorov-Smirnov test of their uniformity (the test should be exactly calibrated
       in the body, not only never reject).
power  For every battery vector, a planted bias q = statistics.planted_bias(p, delta) with
       TV(p, q) = delta, sampled exactly (inverse CDF of q) with seed bases 0..seeds-1 at the
       battery's N; reports the measured rejection rate next to the predicted
       (statistics.power_against) and the guaranteed worst case (statistics.worst_case_power),
       for delta = 0.01 (the design point) and delta = 0.005 (where the predicted power is
       intermediate, so the comparison is sharp).
tail   The chi-square approximation of the null in the far tail: exact multinomial draws at the
       battery's N, Pearson's statistic with the battery's pooling, the empirical tail
       P(X^2 > chi2.isf(a)) against a for a = 1e-2 ... 1e-5.

Not run in CI (minutes to an hour); its output is quoted in docs/samplers.md.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core per process: run several side by side

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

from suite import statistics as stat  # noqa: E402
from suite.adapter import builtin  # noqa: E402
from suite.properties import all_properties  # noqa: E402
from suite.properties import samplers as sp  # noqa: E402

SAMPLERS = [(impl, op) for impl in ("numpy-reference", "torch-cpu", "jax") for op in ("gumbel_max", "gumbel_softmax")]


def adapter_call(adapter, op):
    def call(*args, **kwargs):
        native = [adapter.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
        return adapter.to_numpy(adapter.ops[op](*native, **kwargs))

    return call


def run_null(seeds: int, dtypes: list[str], samplers: list[tuple[str, str]], log: str = "", first: int = 0) -> dict:
    """Seed bases outermost, so that a run stopped early covers every sampler equally;
    one JSON line per (sampler, dtype, base) goes to ``log`` as it is done."""
    calls = {}
    for impl, op in samplers:
        adapter = builtin(impl)
        if adapter.available and op in adapter.ops:
            calls[(impl, op)] = adapter_call(adapter, op)
    rows = []
    sink = open(log, "a") if log else None
    for base in range(first, seeds):
        for (impl, op), call in calls.items():
            for dtype in dtypes:
                t0 = time.time()
                for name, x, seed, result in sp.distribution_battery(call, op, dtype, base=base):
                    row = {"sampler": f"{impl}/{op}/{dtype}", "base": base, "vector": name, "seed": seed,
                           "p_value": result.p_value, "rejected": result.rejected,
                           "message": result.describe() if result.rejected else ""}
                    rows.append(row)
                    if sink:
                        sink.write(json.dumps(row) + "\n")
                if sink:
                    sink.flush()
                print(f"base {base} {impl}/{op}/{dtype} {time.time() - t0:.1f}s", flush=True)
    return summarize_null(rows)


def summarize_null(rows: list[dict]) -> dict:
    """Per sampler: rejections and the p-values' calibration (rows deduplicated by sampler, base, vector)."""
    rows = list({(r["sampler"], r["base"], r["vector"]): r for r in rows}.values())
    report = {}
    for key in sorted({r["sampler"] for r in rows}):
        mine = [r for r in rows if r["sampler"] == key]
        p = np.array([r["p_value"] for r in mine])
        report[key] = {
            "bases": len({r["base"] for r in mine}),
            "tests": int(p.size),
            "rejections": sum(r["rejected"] for r in mine),
            "rejected": [r for r in mine if r["rejected"]],
            "p_below_1e-2": int(np.sum(p < 1e-2)),
            "p_below_1e-3": int(np.sum(p < 1e-3)),
            "min_p": float(p.min()),
            "ks_uniform_p": float(stats.kstest(p, "uniform").pvalue),
        }
        print(key, json.dumps({k: v for k, v in report[key].items() if k != "rejected"}), flush=True)
    return report


def inverse_cdf(q: np.ndarray, n: int, seed: int) -> np.ndarray:
    c = np.cumsum(q)
    idx = np.searchsorted(c, np.random.default_rng(seed).random(n) * c[-1], side="right")
    return np.minimum(idx, int(np.flatnonzero(q > 0)[-1]))


def delta_at_half_power(n: int, p: np.ndarray) -> float:
    """The planted bias size whose predicted power is 1/2 (where a measured rate is most telling)."""
    lo, hi = 1e-5, 0.05
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if stat.power_against(n, p, stat.planted_bias(p, mid)) < 0.5 else (lo, mid)
    return round(hi, 5)


def run_power(seeds: int) -> dict:
    report = {}
    op = "gumbel_max"  # gumbel_softmax's battery has the same vectors, N and test
    for name in sp.battery_vectors(op):
        x, p, n = sp._design(op, name, "float32")
        for delta in (stat.DELTA, delta_at_half_power(n, p)):
            q = stat.planted_bias(p, delta)
            tv = 0.5 * float(np.abs(q - p).sum())
            rejected = 0
            for base in range(seeds):
                seed = stat.test_seed(base, "planted", name, delta)
                counts = np.bincount(inverse_cdf(q, n, seed), minlength=len(p))
                rejected += stat.gof_test(counts, p).rejected
            measured = rejected / seeds
            predicted = stat.power_against(n, p, q)
            entry = {
                "N": n,
                "df": int(stat.pool(p, n).max()),
                "tv": round(tv, 6),
                "rejected": f"{rejected}/{seeds}",
                "measured": measured,
                "measured_95ci": [round(v, 3) for v in stats.binomtest(rejected, seeds).proportion_ci(0.95)],
                "predicted": round(predicted, 4),
                "worst_case_at_this_tv": round(stat.worst_case_power(n, p, delta), 4),
            }
            report[f"{name}/tv={delta}"] = entry
            print(f"{name}/tv={delta}", json.dumps(entry), flush=True)
    return report


def run_tail(reps: int) -> dict:
    report = {}
    levels = (1e-2, 1e-3, 1e-4, 1e-5)
    rng = np.random.default_rng(12345)
    for name in sp.battery_vectors("gumbel_max"):
        x, p, n = sp._design("gumbel_max", name, "float32")
        groups = stat.pool(p, n)
        pg = stat.grouped(p, groups)
        df = len(pg) - 1
        exceed = np.zeros(len(levels))
        done = 0
        while done < reps:
            m = min(200_000, reps - done)
            counts = rng.multinomial(n, pg, size=m)
            x2 = np.sum((counts - n * pg) ** 2 / (n * pg), axis=1)
            exceed += [(x2 > stats.chi2.isf(a, df)).sum() for a in levels]
            done += m
        entry = {f"{a:g}": f"{int(e)}/{reps} (expected {a * reps:g})" for a, e in zip(levels, exceed)}
        entry["df"] = df
        entry["N"] = n
        report[name] = entry
        print(name, json.dumps(entry), flush=True)
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("null", "power", "tail"))
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--first-base", type=int, default=0, help="null: start at this seed base (resume)")
    parser.add_argument("--reps", type=int, default=1_000_000)
    parser.add_argument("--dtypes", default="float32")
    parser.add_argument("--samplers", default="", help="comma-separated impl/op, e.g. torch-cpu/gumbel_max")
    parser.add_argument("--out", default="", help="write the report as JSON here")
    parser.add_argument("--log", default="", help="null: append one JSON line per battery here")
    parser.add_argument("--summarize", default="", help="null: only summarize these comma-separated logs")
    args = parser.parse_args()
    all_properties()
    if args.mode == "null" and args.summarize:
        rows = [json.loads(line) for f in args.summarize.split(",") for line in open(f) if line.strip()]
        report = summarize_null(rows)
    elif args.mode == "null":
        chosen = [tuple(s.split("/")) for s in args.samplers.split(",") if s] or SAMPLERS
        report = run_null(args.seeds, args.dtypes.split(","), chosen, args.log, args.first_base)
    elif args.mode == "power":
        report = run_power(args.seeds)
    else:
        report = run_tail(args.reps)
    design = {
        "alpha_test": stat.ALPHA_TEST,
        "tests_per_certification": stat.TESTS_PER_CERTIFICATION,
        "nominal_family_alpha": stat.NOMINAL_FAMILY_ALPHA,
        "delta": stat.DELTA,
        "power": stat.POWER,
        "e_min": stat.E_MIN,
    }
    if args.out:
        Path(args.out).write_text(json.dumps({"design": design, "report": report}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
