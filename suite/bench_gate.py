"""The benchmark regression gate: ``softmax-suite bench compare BASE HEAD``.

Reads the asv results of two commits (asv's own ``asv.results`` API, from the
``results_dir`` of asv.conf.json), pairs the benchmarks by name and parameters,
and lists every one that got worse by at least ``factor``:

* time_, peakmem_ and mem_ benchmarks (smaller is better): HEAD / BASE >= factor;
* track_ benchmarks (bigger is better here: GB/s, fractions of the copy
  bandwidth, elements or draws per second): BASE / HEAD >= factor, i.e. the
  value fell to 1/factor of what it was or less;
* a benchmark that ran at BASE and failed at HEAD.

Exit status: 0 no regression, 1 regressions (listed in a table), 2 bad input
(raised as :class:`suite.adapter.UsageError`). Plain ``asv compare`` exits 0 even
when it lists regressions, which is why this gate exists.
"""
from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from suite.adapter import UsageError

DEFAULT_FACTOR = 1.2
KINDS = ("time", "peakmem", "mem", "track")


@dataclass(frozen=True)
class Change:
    name: str  # the benchmark, e.g. bench_ops.OpTime.time_op
    params: tuple[str, ...]  # parameter values as asv writes them (reprs)
    kind: str  # time, peakmem, mem or track
    unit: str
    base: float
    head: float | None  # None: failed at HEAD
    ratio: float  # the slowdown: HEAD/BASE, or BASE/HEAD for track_; inf when HEAD failed

    @property
    def label(self) -> str:
        if not self.params:
            return self.name
        return f"{self.name}({', '.join(p.strip(chr(39)) for p in self.params)})"


@dataclass
class Comparison:
    machine: str
    base: str  # full commit hashes
    head: str
    factor: float
    compared: int
    regressions: list[Change]
    skipped: list[str]  # benchmarks not compared, with why (version changed, only on one side)


def _asv():
    try:
        import asv.config
        import asv.results
        import asv.util
    except ImportError:
        raise UsageError("asv is not installed; pip install 'softmax-suite[bench]'") from None
    return asv


def results_dir(config: str | Path) -> Path:
    """The results directory named by asv.conf.json, relative to the file's directory."""
    asv = _asv()
    path = Path(config)
    if not path.is_file():
        raise UsageError(f"no asv config {str(path)!r}; run from the project root or pass --config asv.conf.json")
    try:
        conf = asv.config.Config.load(str(path))
    except asv.util.UserError as exc:
        raise UsageError(f"cannot read {str(path)!r}: {exc}") from None
    return path.resolve().parent / getattr(conf, "results_dir", "results")


def machines(root: Path) -> list[str]:
    """Machines with results, the most recently written first."""
    found = []
    for sub in root.iterdir() if root.is_dir() else ():
        if (sub / "machine.json").is_file():
            stamps = [f.stat().st_mtime for f in sub.glob("*.json") if f.name != "machine.json"]
            if stamps:
                found.append((max(stamps), sub.name))
    return [name for _, name in sorted(found, reverse=True)]


def _load(root: Path, machine: str, commit: str) -> tuple[str, dict]:
    """(full hash, {env name: Results}) for the results of ``commit`` (a prefix) on ``machine``."""
    asv = _asv()
    try:
        prefix = asv.results.get_result_hash_from_prefix(str(root), machine, commit)
    except asv.util.UserError as exc:
        raise UsageError(f"{commit}: {exc}") from None
    if prefix is None:
        return "", {}
    by_env = {r.env_name: r for r in asv.results.iter_results_for_machine_and_hash(str(root), machine, prefix)}
    full = next(iter(by_env.values())).commit_hash if by_env else prefix
    return full, by_env


def _kind(name: str, info: dict) -> str | None:
    kind = info.get("type")
    if kind in KINDS:
        return kind
    method = name.rsplit(".", 1)[-1]
    for k in KINDS:
        if method.startswith(k + "_"):
            return k
    return None


def _values(results, key: str) -> dict[tuple[str, ...], float | None]:
    """{parameter tuple: value} of one benchmark in one Results (value None: failed; NaN: skipped)."""
    params = results.get_result_params(key) or []
    return dict(zip(itertools.product(*params), results.get_result_value(key, params)))


def _usable(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v) and v > 0


def compare(base: str, head: str, config: str | Path = "asv.conf.json", machine: str | None = None,
            factor: float = DEFAULT_FACTOR) -> Comparison:
    """Compare the asv results of ``base`` and ``head`` (commit hashes or unique prefixes)."""
    if not (factor > 1):
        raise UsageError(f"--factor must be a number above 1 (1.2 flags a 20% slowdown), not {factor!r}")
    root = results_dir(config)
    known = machines(root)
    if not known:
        raise UsageError(f"no asv results under {root}; run `asv machine --yes` and `asv run` first")
    if machine is not None:
        if machine not in known:
            raise UsageError(f"no results for machine {machine!r} under {root}; machines with results: {', '.join(known)}")
        candidates = [machine]
    else:
        candidates = known
    loaded = None
    for name in candidates:  # the most recent machine that has results for both commits
        base_full, base_res = _load(root, name, base)
        head_full, head_res = _load(root, name, head)
        if base_res and head_res:
            loaded = name, base_full, base_res, head_full, head_res
            break
    if loaded is None:
        where = f"machine {candidates[0]!r}" if len(candidates) == 1 else f"any machine ({', '.join(candidates)})"
        missing = [c for c in (base, head) if not any(_load(root, n, c)[1] for n in candidates)]
        raise UsageError(
            f"no asv results for {' and '.join(missing) or f'both {base} and {head}'} on {where} under {root}; "
            "check the hash (`git rev-parse`) or run `asv run --set-commit-hash HASH`"
        )
    name, base_full, base_res, head_full, head_res = loaded
    common_envs = sorted(set(base_res) & set(head_res))
    if common_envs:
        pairs = [(base_res[e], head_res[e]) for e in common_envs]
    elif len(base_res) == 1 and len(head_res) == 1:
        pairs = [(next(iter(base_res.values())), next(iter(head_res.values())))]
    else:
        raise UsageError(f"{base} and {head} were benchmarked in different environments; compare within one environment")

    info = _benchmark_info(root)
    regressions, skipped, compared = [], [], 0
    for b, h in pairs:
        for key in sorted(set(b.get_all_result_keys()) | set(h.get_all_result_keys())):
            kind = _kind(key, info.get(key, {}))
            if kind is None:
                continue
            if key not in b.get_all_result_keys() or key not in h.get_all_result_keys():
                skipped.append(f"{key}: only at {'HEAD' if key in h.get_all_result_keys() else 'BASE'}")
                continue
            if b.benchmark_version.get(key) != h.benchmark_version.get(key):
                skipped.append(f"{key}: benchmark version changed")
                continue
            unit = info.get(key, {}).get("unit") or ("seconds" if kind == "time" else "bytes" if kind in ("peakmem", "mem") else "")
            head_values = _values(h, key)
            for params, before in _values(b, key).items():
                if params not in head_values or not _usable(before):
                    continue
                after = head_values[params]
                if after is None:  # ran at BASE, failed at HEAD
                    compared += 1
                    regressions.append(Change(key, params, kind, unit, before, None, math.inf))
                    continue
                if not _usable(after):  # skipped at HEAD (NaN): nothing to compare
                    continue
                compared += 1
                ratio = before / after if kind == "track" else after / before
                if ratio >= factor:
                    regressions.append(Change(key, params, kind, unit, before, after, ratio))
    regressions.sort(key=lambda c: -c.ratio)
    return Comparison(name, base_full, head_full, factor, compared, regressions, skipped)


def _benchmark_info(root: Path) -> dict:
    """{benchmark name: {"type", "unit", ...}} from asv's benchmarks.json, where it exists."""
    try:
        data = json.loads((root / "benchmarks.json").read_text())
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def _show(value: float | None, unit: str) -> str:
    if value is None:
        return "failed"
    if unit == "seconds":
        for scale, suffix in ((1, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
            if value >= scale:
                return f"{value / scale:.3g}{suffix}"
        return f"{value / 1e-9:.3g}ns"
    if unit == "bytes":
        for scale, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if value >= scale:
                return f"{value / scale:.3g}{suffix}"
        return f"{value:.0f}B"
    return f"{value:.4g}" + (f" {unit}" if unit and unit != "unit" else "")


def report(c: Comparison) -> str:
    """The table of regressions (or one line saying there are none)."""
    head = f"{c.base[:8]} -> {c.head[:8]} on {c.machine}: {c.compared} benchmark results compared, factor {c.factor:g}"
    lines = [head]
    if c.skipped:
        lines.append(f"not compared: {len(c.skipped)} benchmarks (" + "; ".join(c.skipped[:3]) + (", ..." if len(c.skipped) > 3 else "") + ")")
    if not c.regressions:
        lines.append("no regressions")
        return "\n".join(lines)
    rows = [("benchmark", "before", "after", "ratio")]
    for r in c.regressions:
        ratio = "failed at HEAD" if r.head is None else f"{r.ratio:.2f}x"
        rows.append((r.label, _show(r.base, r.unit), _show(r.head, r.unit), ratio))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines.append(f"{len(c.regressions)} regression{'s' if len(c.regressions) != 1 else ''}:")
    for i, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(w) if j == 0 else cell.rjust(w) for j, (cell, w) in enumerate(zip(row, widths))).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("ratio: after/before for time and memory, before/after for track_ (bigger is better there)")
    return "\n".join(lines)
