"""Certificates and the conformance matrix on disk: JSON, Markdown and HTML with plots.

Every file is written to a temporary directory beside the destination and then
moved into place with :func:`os.replace`, one file at a time: a reader sees the
old file or the new one, never half of one, and a run that fails or is
interrupted leaves an earlier report where it was.
"""
from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from suite import speed_report
from suite.runner import FAIL, IMPL_DEFINED, PASS, SKIP

DEFAULT_REPORTS = Path("reports")
STATUS_MARK = {PASS: "pass", FAIL: "FAIL", IMPL_DEFINED: "implementation-defined", SKIP: "skipped"}
# A graded property that measured nothing for a dtype (low_precision_rounding on float32) is not applicable.
NOT_APPLICABLE = "n/a"
LONG_VALUE_CHARS = 400  # longer counterexample values are cut in the readable failure reports
LONG_REPRO_CHARS = 400  # a longer inline repro becomes one that loads the call's arrays from a file


def status_mark(entry: dict) -> str:
    """How a property's status reads: a skipped graded property is n/a, not a pass or a skip."""
    if entry["status"] == SKIP and entry.get("graded"):
        return NOT_APPLICABLE
    return STATUS_MARK.get(entry["status"], entry["status"])


# --------------------------------------------------------------------------- writing


def write_files(directory: Path, files: dict[str, str | bytes]) -> list[Path]:
    """Write ``files`` (name -> content) into ``directory`` atomically, file by file."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".softmax-suite-", dir=directory.parent if directory.parent.exists() else None))
    written = []
    try:
        for name, content in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8") if isinstance(content, str) else content
            with open(path, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for name in files:
            final = directory / name
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, final)
            written.append(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "target"


def default_certificate_dir(cert: dict) -> Path:
    return DEFAULT_REPORTS / f"{slug(cert['target'])}-{cert['op']}"


def to_json(cert: dict) -> str:
    return json.dumps(_json_safe(cert), indent=2, sort_keys=False) + "\n"


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    return value


def write_certificate(cert: dict, directory: Path | str | None = None) -> list[Path]:
    """certificate.json, certificate.md and index.html. The verdict is never lost to rendering:
    JSON and Markdown come first, and an HTML page that cannot be rendered becomes the
    Markdown with the reason (a plot that cannot be drawn is already only a note in the page)."""
    directory = Path(directory) if directory is not None else default_certificate_dir(cert)
    inputs = save_inputs(cert)
    markdown = certificate_markdown(cert)
    files = {**inputs, "certificate.json": to_json(cert), "certificate.md": markdown}
    files["index.html"] = _html_or_fallback(lambda: certificate_html(cert), markdown, "certificate.md", f"softmax-suite: {cert['target']} {cert['op']}")
    return write_files(directory, files)


def save_inputs(cert: dict) -> dict[str, bytes]:
    """The arrays of each failure whose inline repro is long, as ``inputs/PROPERTY-DTYPE.npz``
    files beside the certificate; the outcome's ``repro`` becomes the short line that loads its
    file (run it in the certificate's folder) and ``input_file`` names it. Changes ``cert`` in place."""
    import base64

    files = {}
    for p in cert["properties"]:
        for dtype, o in p["dtypes"].items():
            blob, short = o.pop("inputs_npz", ""), o.pop("repro_from_file", "")
            if not blob or len(o.get("repro", "")) <= LONG_REPRO_CHARS:
                continue
            name = f"inputs/{slug(p['name'])}-{dtype}.npz"
            files[name] = base64.b64decode(blob)
            o["input_file"], o["repro"] = name, short.replace("{inputs}", name)
    return files


def _html_or_fallback(render: Callable[[], str], markdown: str, markdown_name: str, title: str) -> str:
    try:
        return render()
    except Exception as exc:  # noqa: BLE001 - any rendering bug; the Markdown holds the verdict
        note = f"the HTML report could not be rendered ({type(exc).__name__}: {exc}); this is {markdown_name}"
        return _page(title, f"<p class=\"fail\">{_e(note)}</p><pre>{_e(markdown)}</pre>")


# --------------------------------------------------------------------------- text


def fmt_ulp(value) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, str):
        return value
    if value >= 1e6:
        return f"{value:.3g}"
    return f"{value:.3g}"


def fmt_figure(value, measure: str) -> str:
    """A graded property's figure with its measure, e.g. '3.59 ULP, shift excused'."""
    if value is None or value == "":
        return "-"
    return f"{fmt_ulp(value)} {measure}".strip()


def not_applicable(entry: dict) -> str:
    """'n/a on float32, float64 (reason)' for the dtypes a graded property measured nothing on."""
    skipped = {d: o.get("message", "") for d, o in entry["dtypes"].items() if o["status"] == SKIP}
    if not skipped or not entry.get("graded"):
        return ""
    reasons = sorted(set(skipped.values()))
    return f"n/a on {', '.join(skipped)} ({'; '.join(r for r in reasons if r)})"


def property_detail(entry: dict) -> str:
    """One line: why it failed, what it observed, or why it was skipped (n/a, for graded ones)."""
    if entry["status"] == SKIP:
        reason = entry.get("reason", "")
        return f"n/a: {reason}" if entry.get("graded") else reason
    if entry["status"] == FAIL:
        for dtype, o in entry["dtypes"].items():
            if o["status"] == FAIL:
                first = o["message"].splitlines()[0] if o["message"] else ""
                return f"{dtype}: " + (f"grade {o['grade']}: " if o.get("grade") else "") + first
    grades = {d: o.get("grade") for d, o in entry["dtypes"].items() if o.get("grade")}
    if entry["status"] == PASS and grades:
        if len(set(grades.values())) == 1 and len(grades) > 1:
            text = f"grade {next(iter(grades.values()))} on {', '.join(grades)}"
        else:
            text = "; ".join(f"{d}: {entry['dtypes'][d].get('observation') or 'grade ' + g}" for d, g in grades.items())
        return "; ".join(t for t in (text, not_applicable(entry)) if t)
    if entry["status"] == IMPL_DEFINED:
        seen = {}
        for dtype, o in entry["dtypes"].items():
            seen.setdefault(o.get("observation", ""), []).append(dtype)
        return "; ".join(f"{obs} ({', '.join(ds)})" if len(seen) > 1 else obs for obs, ds in seen.items())
    return ""


def summary_rows(cert: dict) -> list[tuple[str, str, str, str]]:
    rows = []
    for p in cert["properties"]:
        name = p["name"] + ("" if p["required"] else " (not required)")
        rows.append((name, status_mark(p), worst_cell(p), property_detail(p)))
    return rows


def worst_cell(entry: dict) -> str:
    """The worst error a property recorded; for a graded one, the figure its grade was decided on."""
    if entry.get("graded"):
        return fmt_figure(entry.get("figure"), entry.get("measure", ""))
    worst = entry.get("worst_ulp")
    return "-" if worst in (None, "") else f"{fmt_ulp(worst)} ULP"


def summary_table(cert: dict) -> str:
    """The plain-text table printed at the end of ``certify``."""
    rows = [("property", "status", "worst error", "detail")] + summary_rows(cert)
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = []
    for i, r in enumerate(rows):
        detail = r[3] if len(r[3]) <= 90 else r[3][:87] + "..."
        lines.append(f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {detail}".rstrip())
        if i == 0:
            lines.append("-" * (sum(widths) + 4 + 40))
    return "\n".join(lines)


def speed_lines(cert: dict) -> list[str]:
    """The speed section as printed at the end of ``certify``: a compact table and its notes."""
    header, rows, notes = speed_report.speed_table(cert)
    if not rows:
        return [f"speed: {n}" for n in notes]
    keep = [0, 1, 2, 3, 5, 7, 8]  # dtype, shape, path, median, GB/s, of copy, vs baseline
    table = [[header[i] for i in keep]] + [[row[i] for i in keep] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(keep))]
    lines = ["  ".join(f"{c:<{w}}" if i < 3 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(r, widths))) for r in table]
    return lines[:1] + ["-" * len(lines[0])] + lines[1:] + [f"speed: {n}" for n in notes]


def failure_reports(cert: dict, first_per_property: bool = False) -> list[str]:
    """Each failure as: property, message, counterexample, expected vs got, repro."""
    out = []
    for p in cert["properties"]:
        shown = 0
        for dtype, o in p["dtypes"].items():
            if o["status"] != FAIL:
                continue
            shown += 1
            if first_per_property and shown > 1:
                continue
            lines = [f"{p['name']} failed for {cert['op']} on {cert['implementation']} ({dtype}): {o['message'].strip()}"]
            for label, value in o.get("counterexample", {}).items():
                if len(value) > LONG_VALUE_CHARS:  # a kernel-scale array: the exact value stays in certificate.json
                    kept = o.get("input_file") or "certificate.json"
                    value = f"{value[:LONG_VALUE_CHARS - 80]} ... ({len(value)} characters in all; exactly in {kept})"
                lines.append(f"  {label} = {value}")
            if o.get("expected"):
                lines.append(f"  expected: {o['expected']}")
            if o.get("got"):
                lines.append(f"  got:      {o['got']}")
            if o.get("repro"):
                where = " (in the certificate's folder)" if o.get("input_file") else ""
                lines.append(f"  repro{where}: {o['repro']}")
            if o.get("shrink_stopped"):
                lines.append("  (shrinking stopped at its time limit: this input fails as shown, but may not be the smallest that does)")
            out.append("\n".join(lines))
        if first_per_property and shown > 1:
            out[-1] += f"\n  (also fails for {shown - 1} more dtype(s); see the certificate)"
    return out


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def certificate_markdown(cert: dict) -> str:
    lines = [
        f"# softmax-suite certificate: {cert['target']} ({cert['op']})",
        "",
        f"**Verdict: {cert['verdict']}**" + (f" - {len(cert['reasons'])} problem(s)" if cert["reasons"] else ""),
        "",
        "| | |",
        "|---|---|",
        f"| target | `{_md_cell(cert['target'])}` |",
        f"| implementation | {_md_cell(cert['implementation'])} {_md_cell(cert.get('description', ''))} |",
        f"| op | `{cert['op_signature']}` |",
        f"| backend / device | {cert['backend']} / {cert['device']} |",
        f"| dtypes | {dtypes_cell(cert)} |",
        f"| profile / seed / policy | {cert['profile']} / {cert['seed']} / {cert['policy']} |",
        f"| versions | {_md_cell(', '.join(f'{k} {v}' for k, v in cert['library_versions'].items()))} |",
        f"| machine | {_md_cell(cert['machine'].get('platform', ''))}, {cert['machine'].get('cpu_count')} CPUs, Python {cert['machine'].get('python')} |",
        f"| schema | {cert['schema_version']} (docs/certificate-schema.md) |",
        "",
    ]
    if cert["reasons"]:
        lines += ["## Why not certified", ""] + [f"- {_md_cell(r)}" for r in cert["reasons"]] + [""]
    if cert.get("load_error"):
        lines += ["```", cert["load_error"].get("details", ""), "```", ""]
    lines += ["## Properties", "", "| property | status | worst error | detail |", "|---|---|---:|---|"]
    for row in summary_rows(cert):
        lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
    lines.append("")
    if cert["implementation_defined"]:
        lines += ["## Implementation-defined behaviours", "", "| behaviour | dtype | observed |", "|---|---|---|"]
        for b in cert["implementation_defined"]:
            lines.append(f"| {b['property']} | {b['dtype']} | {_md_cell(b['observation'])} |")
        lines.append("")
    if cert.get("accuracy"):
        header, rows, notes = error_profile_table(cert["accuracy"])
        lines += ["## Error profile (against the extended-precision oracle)", "", ERROR_PROFILE_LEGEND, ""]
        lines += ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
        lines += [""] + [f"- {_md_cell(n)}" for n in notes] + ([""] if notes else [])
    header, rows, notes = speed_report.speed_table(cert)
    if rows or notes:
        lines += ["## Speed", "", speed_report.LEGEND, ""]
        if rows:
            lines += ["| " + " | ".join(header) + " |", "|---|---|---|" + "---:|" * (len(header) - 4) + "---|"]
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
        lines += [""] + [f"- {_md_cell(n)}" for n in notes] + [""]
    failures = failure_reports(cert)
    if failures:
        lines += ["## Failures", ""]
        for f in failures:
            lines += ["```", f, "```", ""]
    lines += [f"_Created {cert['timings']['created']} in {cert['timings']['total_s']:.1f}s._", ""]
    return "\n".join(lines)


ERROR_PROFILE_LEGEND = (
    "*bound used*: |out - exact| as a fraction of the componentwise error bound; *ULP, shift excused*: "
    "error in ULPs of the dtype (the measure ulp_accuracy grades on); in both the one rounding of "
    "x - max(x) to the dtype is excused, so that they measure the implementation, not the input. "
    "*plain ULP*: against f(x) itself; on large logits it is the input's conditioning, the same for "
    "every implementation. Over outputs whose exact value is a normal number; *non-finite*: NaN or "
    "inf where the exact value is finite."
)


def _profile_figure(acc: dict, key: str) -> str:
    return fmt_ulp(_num(acc[key])) if key in acc else "-"


def error_profile_table(accuracy: dict) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, one row per dtype, and a note per dtype with a non-finite output (its first example)."""
    header = ["dtype", "outputs", "bound used max", "p99", "ULP, shift excused max", "p99", "plain ULP max", "p99", "non-finite"]
    rows, notes = [], []
    for dtype, acc in accuracy.items():
        if "error" in acc or "skipped" in acc:
            rows.append([dtype] + ["-"] * (len(header) - 2) + [str(acc.get("error") or acc.get("skipped"))])
            continue
        rows.append(
            [dtype, str(acc["n"])]
            + [_profile_figure(acc, k) for k in ("max_bound_used", "p99_bound_used", "max_ulp_mixed", "p99_ulp_mixed", "max_ulp", "p99_ulp")]
            + [str(acc["nonfinite"])]
        )
        example = acc.get("nonfinite_example")
        if example:
            notes.append(
                f"{dtype}: {acc['nonfinite']} output(s) NaN or inf where the exact value is finite; first at "
                f"out{tuple(example['index'])}: got {example['got']}, expected {example['expected']}, for the row x = {example['x']}"
            )
    return header, rows, notes


# --------------------------------------------------------------------------- plots


def _matplotlib():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        return plt
    except Exception:
        return None


def _plots_html(makers: list[Callable], data, empty: str = "no accuracy data") -> list[str]:
    """The figures each of ``makers`` draws from ``data``, as HTML. A maker that raises (matplotlib
    on an infinite statistic, say) costs its own plots, replaced by a note, and nothing else."""
    plots, notes = [], []
    for make in makers:
        try:
            plots += make(data)
        except Exception as exc:  # noqa: BLE001 - matplotlib raises many kinds
            plt = _matplotlib()
            if plt is not None:
                plt.close("all")
            notes.append(f"plot not drawn: {type(exc).__name__}: {exc}")
    if not plots and not notes:
        return [f"<p class=\"no-accuracy\">{_e(empty)}</p>"]
    parts = [f"<p class=\"unplotted\">{_e(note)}</p>" for note in notes]
    for caption, data_uri in plots:
        parts.append(f"<figure><img class=\"plot\" alt=\"{_e(caption)}\" src=\"data:image/png;base64,{data_uri}\"><figcaption>{_e(caption)}</figcaption></figure>")
    return parts


def _png(fig, plt) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _num(v):
    if isinstance(v, str):
        return {"inf": math.inf, "-inf": -math.inf}.get(v, math.nan)
    return math.nan if v is None else float(v)


def _accuracy_plots(cert: dict) -> list[tuple[str, str]]:
    """(caption, base64 PNG) for the ULP histograms per dtype and error against logit magnitude."""
    acc = {d: a for d, a in cert.get("accuracy", {}).items() if "hist_counts" in a}
    if not acc:
        return []
    plt = _matplotlib()
    if plt is None:
        return []
    plots = []
    dtypes = list(acc)
    fig, axes = plt.subplots(1, len(dtypes), figsize=(3.2 * len(dtypes), 2.8), squeeze=False)
    for ax, dtype in zip(axes[0], dtypes):
        a = acc[dtype]
        edges = a["hist_edges"]
        labels = [f"<{_edge(edges[i + 1])}" for i in range(len(edges) - 1)] + [f">={_edge(edges[-1])}", "inf/NaN"]
        counts = a["hist_counts"]
        colors = ["#4c72b0"] * (len(counts) - 1) + ["#c44e52"]
        ax.bar(range(len(counts)), counts, color=colors)
        ax.set_xticks(range(len(counts)))
        ax.set_xticklabels(labels[: len(counts)], rotation=70, fontsize=7)
        ax.set_title(f"{dtype}: max {fmt_ulp(a['max_ulp'])} ULP", fontsize=9)
        ax.set_xlabel("error (ULPs)", fontsize=8)
        ax.set_ylabel("outputs", fontsize=8)
    fig.suptitle(f"{cert['target']} {cert['op']}: error histogram per dtype", fontsize=10, y=1.0)
    fig.tight_layout()
    plots.append(("Error histograms in ULPs, per dtype", _png(fig, plt)))

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    cap = 1e30
    for dtype in dtypes:
        a = acc[dtype]
        mags = [_num(m) for m in a["magnitude"]]
        errs = [_num(e) for e in a["row_max_ulp"]]
        finite = [(m, max(e, 1e-3)) for m, e in zip(mags, errs) if math.isfinite(e)]
        bad = [m for m, e in zip(mags, errs) if not math.isfinite(e)]
        line = ax.plot([m for m, _ in finite], [e for _, e in finite], "o-", ms=3, lw=1, label=dtype)[0]
        if "row_max_ulp_mixed" in a:  # the same rows with the rounding of x - max(x) excused
            mixed = [(m, max(_num(e), 1e-3)) for m, e in zip(mags, a["row_max_ulp_mixed"]) if math.isfinite(_num(e))]
            ax.plot([m for m, _ in mixed], [e for _, e in mixed], "--", lw=1, color=line.get_color(), label=f"{dtype}, shift excused")
        if bad:
            ax.plot(bad, [cap] * len(bad), "x", color=line.get_color(), ms=6, label=f"{dtype} inf/NaN")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("logit magnitude max|x| of the row")
    ax.set_ylabel("max error in the row (ULPs)")
    ax.set_title(f"{cert['target']} {cert['op']}: error against logit magnitude (x at top: inf/NaN)", fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(True, which="major", alpha=0.3)
    plots.append(("Error against logit magnitude", _png(fig, plt)))
    return plots


def _speed_plots(cert: dict) -> list[tuple[str, str]]:
    plt = _matplotlib()
    fig = speed_report.draw_speed(cert, plt) if plt is not None else None
    if fig is None:
        return []
    return [(f"{cert['op']}: GB/s per shape, cold and warm, against a memory copy measured in the same run", _png(fig, plt))]


def _stats_plots(cert: dict) -> list[tuple[str, str]]:
    """Whatever ULP statistics the properties recorded (e.g. max_ulp), per property and dtype: one plot, or none."""
    points = []
    for p in cert["properties"]:
        for dtype, o in p["dtypes"].items():
            for key, value in o.get("stats", {}).items():
                if (
                    "ulp" in key
                    and key.startswith(("max", "p99"))
                    and "." not in key
                    and isinstance(value, (int, float))
                    and math.isfinite(value)
                ):
                    points.append((f"{p['name']}:{key}", dtype, value))
    if not points:
        return []
    plt = _matplotlib()
    if plt is None:
        return []
    labels = sorted({p[0] for p in points})
    dtypes = sorted({p[1] for p in points})
    fig, ax = plt.subplots(figsize=(max(5, 0.5 * len(labels) * len(dtypes)), 3.2))
    width = 0.8 / len(dtypes)
    for j, dtype in enumerate(dtypes):
        values = {lab: v for lab, d, v in points if d == dtype}
        ax.bar([i + j * width for i in range(len(labels))], [max(values.get(lab, 0), 1e-3) for lab in labels], width, label=dtype)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(labels))])
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("ULPs")
    ax.legend(fontsize=7)
    ax.set_title("ULP statistics recorded by the properties", fontsize=9)
    return [("ULP statistics recorded by the properties", _png(fig, plt))]


def _edge(v: float) -> str:
    if v >= 1024:
        return f"2^{int(round(math.log2(v)))}"
    return f"{v:g}"


# --------------------------------------------------------------------------- HTML

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top;font-size:14px}
th{background:#f2f2f2}.pass{background:#e3f5e1}.fail{background:#fbe0e0;font-weight:bold}.implementation-defined{background:#fff5d6}
.skipped{background:#eee;color:#666}.unavailable{background:#eee;color:#666}pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:12px}
.verdict-certified{color:#1a7f37}.verdict-not{color:#b42318}figure{margin:1em 0}figcaption{font-size:13px;color:#555}
td.num{text-align:right}
"""

RENDER_CHECK = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.querySelectorAll('img.plot'));
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var el = document.getElementById('render-check');
  if (el) { el.setAttribute('data-plots-total', imgs.length); el.setAttribute('data-plots-loaded', ok);
            el.textContent = 'plots rendered: ' + ok + '/' + imgs.length; }
});
</script>
"""


def _e(text) -> str:
    return html.escape(str(text))


def _page(title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_e(title)}</title>"
        f"<style>{CSS}</style></head><body>\n{body}\n"
        f"<p id=\"render-check\" style=\"font-size:11px;color:#999\">plots rendered: pending</p>{RENDER_CHECK}</body></html>\n"
    )


def certificate_html(cert: dict, link_back: str | None = None) -> str:
    verdict_class = "verdict-certified" if cert["certified"] else "verdict-not"
    parts = []
    if link_back:
        parts.append(f'<p><a href="{_e(link_back)}">&larr; conformance matrix</a></p>')
    parts += [
        f"<h1>{_e(cert['target'])} &mdash; {_e(cert['op'])}</h1>",
        f"<h2 class=\"{verdict_class}\" id=\"verdict\">{_e(cert['verdict'])}</h2>",
    ]
    if cert["reasons"]:
        parts.append("<ul>" + "".join(f"<li>{_e(r)}</li>" for r in cert["reasons"]) + "</ul>")
    meta = [
        ("implementation", f"{cert['implementation']} {cert.get('description', '')}"),
        ("op", cert["op_signature"]),
        ("backend / device", f"{cert['backend']} / {cert['device']}"),
        ("dtypes", dtypes_cell(cert)),
        ("profile / seed / policy", f"{cert['profile']} / {cert['seed']} / {cert['policy']}"),
        ("versions", ", ".join(f"{k} {v}" for k, v in cert["library_versions"].items())),
        ("machine", f"{cert['machine'].get('platform')} ({cert['machine'].get('cpu_count')} CPUs), Python {cert['machine'].get('python')}"),
        ("created", f"{cert['timings']['created']} ({cert['timings']['total_s']:.1f}s)"),
    ]
    parts.append("<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in meta) + "</table>")
    parts.append("<h2>Properties</h2><table id=\"properties\"><tr><th>property</th><th>status</th><th>worst error</th><th>per dtype</th><th>detail</th></tr>")
    for p in cert["properties"]:
        per = " ".join(
            f"<span class=\"{_e(o['status'])}\" title=\"{_e(o.get('message') or o.get('observation', ''))}\">{_e(d)}"
            + (f" {NOT_APPLICABLE}" if o["status"] == SKIP and p.get("graded") else "")
            + "</span>"
            for d, o in p["dtypes"].items()
        )
        name = p["name"] + ("" if p["required"] else " <small>(not required)</small>")
        parts.append(
            f"<tr><td title=\"{_e(p['statement'])}\">{name}</td><td class=\"{_e(p['status'])}\">{_e(status_mark(p))}</td>"
            f"<td class=\"num\">{_e(worst_cell(p))}</td><td>{per}</td><td>{_e(property_detail(p))}</td></tr>"
        )
    parts.append("</table>")
    if cert["implementation_defined"]:
        parts.append("<h2>Implementation-defined behaviours</h2><table><tr><th>behaviour</th><th>dtype</th><th>observed</th></tr>")
        for b in cert["implementation_defined"]:
            parts.append(f"<tr><td>{_e(b['property'])}</td><td>{_e(b['dtype'])}</td><td>{_e(b['observation'])}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Error profile</h2>")
    if cert.get("accuracy"):
        header, rows, notes = error_profile_table(cert["accuracy"])
        parts.append(f"<p>{_e(ERROR_PROFILE_LEGEND)}</p><table id=\"error-profile\"><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td class=\"num\">{_e(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>" + "".join(f"<p class=\"fail\">{_e(n)}</p>" for n in notes))
    parts += _plots_html([_accuracy_plots, _stats_plots], cert)
    header, rows, notes = speed_report.speed_table(cert)
    if rows or notes:
        parts.append(f"<h2>Speed</h2><p>{_e(speed_report.LEGEND)}</p>")
        if rows:
            parts.append("<table id=\"speed\"><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>")
            parts += ["<tr>" + "".join(f"<td class=\"num\">{_e(c)}</td>" for c in row) + "</tr>" for row in rows]
            parts.append("</table>")
        parts += [f"<p>{_e(n)}</p>" for n in notes]
        if rows:
            parts += _plots_html([_speed_plots], cert, empty="nothing timed")
    failures = failure_reports(cert)
    if failures:
        parts.append("<h2>Failures</h2>")
        parts += [f"<pre>{_e(f)}</pre>" for f in failures]
    if cert.get("load_error"):
        parts.append(f"<pre>{_e(cert['load_error'].get('details', ''))}</pre>")
    return _page(f"softmax-suite: {cert['target']} {cert['op']}", "\n".join(parts))


# --------------------------------------------------------------------------- the matrix


def column_label(cert: dict, certs: list[dict]) -> str:
    """A matrix column: the implementation, and where the certificates hold the same one from
    several machines or devices (merged with ``softmax-suite matrix``), its device and host."""
    same = {(c["device"], c["machine"].get("node", "")) for c in certs if c["implementation"] == cert["implementation"]}
    if len(same) <= 1:
        return cert["implementation"]
    return f"{cert['implementation']} ({cert['device']} on {cert['machine'].get('node') or 'an unnamed host'})"


def matrix_data(certs: list[dict], unavailable: dict[str, str]) -> dict:
    """Columns: implementations (and device and host, where one ran on several); rows: (op,
    property or behaviour); cells: a short status."""
    columns = []
    for c in certs:
        if column_label(c, certs) not in columns:
            columns.append(column_label(c, certs))
    rows: dict[tuple[str, str], dict[str, str]] = {}
    verdicts: dict[tuple[str, str], str] = {}
    for c in certs:
        column = column_label(c, certs)
        verdicts[(c["op"], column)] = c["verdict"]
        versions = c.get("implementation_versions") or {}
        rows.setdefault((c["op"], "versions"), {})[column] = ", ".join(f"{k} {v}" for k, v in versions.items()) or "-"
        rows.setdefault((c["op"], "device"), {})[column] = f"{c['device']} ({c['machine'].get('processor') or c['machine'].get('machine', '')}, {c['machine'].get('cpu_count')} CPUs)"
        rows.setdefault((c["op"], "dtypes certified"), {})[column] = dtypes_cell(c)
        for p in c["properties"]:
            if p["status"] == IMPL_DEFINED:
                cell = property_detail(p)
            elif p.get("graded"):
                cell = graded_cell(p)
            elif p["status"] == FAIL:
                failing = [d for d, o in p["dtypes"].items() if o["status"] == FAIL]
                cell = "FAIL (" + ", ".join(failing) + ")"
            elif p["status"] == SKIP:
                cell = "skipped"
            else:
                cell = "pass"
                if p.get("worst_ulp") not in (None, ""):
                    cell += f" ({fmt_ulp(p['worst_ulp'])} ULP)"
            rows.setdefault((c["op"], p["name"]), {})[column] = cell
        for name, cell in error_profile_cells(c.get("accuracy", {})).items():
            rows.setdefault((c["op"], name), {})[column] = cell
        for name, cell in speed_report.matrix_cells(c).items():
            rows.setdefault((c["op"], name), {})[column] = cell
    return {"columns": columns, "unavailable": unavailable, "verdicts": verdicts, "rows": rows}


def dtypes_cell(cert: dict) -> str:
    """"float16, float32 (unsupported: bfloat16)": what was certified, and what the target declared it does not support."""
    cell = ", ".join(cert["dtypes"])
    if cert.get("unsupported_dtypes"):
        cell += f" (unsupported: {', '.join(cert['unsupported_dtypes'])})"
    return cell


def graded_cell(p: dict) -> str:
    """A graded property's matrix cell: its status, grades and the figure they were decided on,
    e.g. 'pass, grade A/B (max 3.59 ULP, shift excused)', 'FAIL (float32), grade F',
    'n/a (low_precision_rounding is defined for float16, bfloat16 only)'."""
    dtypes = p["dtypes"]
    if p["status"] == SKIP:
        return f"{NOT_APPLICABLE} ({p.get('reason', '')})" if p.get("reason") else NOT_APPLICABLE
    grades = "/".join(sorted({o["grade"] for o in dtypes.values() if o.get("grade")}))
    if p["status"] == FAIL:
        cell = "FAIL (" + ", ".join(d for d, o in dtypes.items() if o["status"] == FAIL) + ")"
        cell += f", grade {grades}" if grades else ""
    else:
        # Per grade, the dtypes that got it and their worst figure: thresholds differ between dtypes.
        by_grade: dict[str, list[str]] = {}
        for d, o in dtypes.items():
            if o.get("grade"):
                by_grade.setdefault(o["grade"], []).append(d)
        parts = []
        for grade, ds in by_grade.items():
            figure = worst_figure_of([dtypes[d] for d in ds])
            shown = f" (max {fmt_figure(figure, p.get('measure', ''))})" if figure is not None else ""
            parts.append(f"{grade}{' on ' + ', '.join(ds) if len(by_grade) > 1 else ''}{shown}")
        cell = "pass" + (", grade " + "; ".join(parts) if parts else "")
    skipped = [d for d, o in dtypes.items() if o["status"] == SKIP]
    if skipped and p["status"] != SKIP:
        cell += f"; {NOT_APPLICABLE} on {', '.join(skipped)}"
    return cell


def worst_figure_of(outcomes: list[dict]):
    values = [_num(o.get("figure")) for o in outcomes if o.get("figure") not in (None, "")]
    values = [v for v in values if v == v]
    if not values:
        return None
    return max(values) if math.isfinite(max(values)) else "inf"


def error_profile_cells(accuracy: dict) -> dict[str, str]:
    """The matrix's error-profile rows for one certificate: the fraction of the bound used and the
    ULP error with the shift excused (max and p99, worst over dtypes), which rank implementations;
    not the plain ULP error, which on large logits is the input's conditioning and reads the same
    for every implementation."""
    measured = [a for a in accuracy.values() if "max_bound_used" in a]
    if not measured:
        return {}
    cells = {}
    for row, key in (("error profile: bound used", "bound_used"), ("error profile: ULP, shift excused", "ulp_mixed")):
        worst = max(_num(a[f"max_{key}"]) for a in measured)
        p99 = max(_num(a[f"p99_{key}"]) for a in measured)
        cells[row] = f"max {fmt_ulp(worst if math.isfinite(worst) else 'inf')}, p99 {fmt_ulp(p99 if math.isfinite(p99) else 'inf')}"
    nonfinite = {d: a["nonfinite"] for d, a in accuracy.items() if a.get("nonfinite")}
    if nonfinite:
        note = "; " + ", ".join(f"{n} non-finite ({d})" for d, n in nonfinite.items())
        cells = {row: cell + note for row, cell in cells.items()}
    return cells


def _cell_class(text: str) -> str:
    if text.startswith("pass"):
        return PASS
    if text.startswith("FAIL"):
        return "fail"
    if text == "skipped" or text == "" or text.startswith(NOT_APPLICABLE):
        return SKIP
    return IMPL_DEFINED


def provenance(certs: list[dict]) -> str:
    """Where the matrix's certificates come from: profile, seed and policy, and the machine(s)."""
    settings = sorted({(c["profile"], c["seed"], c["policy"]) for c in certs})
    said = "; ".join(f"profile {p}, seed {s}, policy {q}" for p, s, q in settings)
    machines = {}
    for c in certs:
        machines.setdefault(c["machine"].get("node", ""), c["machine"].get("platform", ""))
    if len(machines) == 1:
        return f"{said[0].upper()}{said[1:]}; {next(iter(machines.values()))}."
    where = "; ".join(f"{node or '?'} ({platform})" for node, platform in machines.items())
    return f"{said[0].upper()}{said[1:]}. Certificates from {len(machines)} machines: {where}."


def matrix_markdown(certs: list[dict], unavailable: dict[str, str], links: dict | None = None, zoo: dict | None = None) -> str:
    m = matrix_data(certs, unavailable)
    cols = m["columns"]
    lines = ["# softmax-suite conformance matrix", ""]
    if certs:
        lines += [provenance(certs), ""]
    if unavailable:
        lines += ["Unavailable implementations:", ""] + [f"- **{n}**: {r}" for n, r in unavailable.items()] + [""]
    ops = []
    for op, _ in m["rows"]:
        if op not in ops:
            ops.append(op)
    for op in ops:
        lines += [f"## {op}", "", "| property / behaviour | " + " | ".join(cols + list(unavailable)) + " |", "|---" * (1 + len(cols) + len(unavailable)) + "|"]
        verdict_cells = []
        for col in cols:
            v = m["verdicts"].get((op, col))
            link = (links or {}).get((op, col))
            verdict_cells.append("-" if v is None else (f"[{v}]({link})" if link else v))
        lines.append("| **verdict** | " + " | ".join(verdict_cells + ["unavailable"] * len(unavailable)) + " |")
        for (row_op, name), cells in m["rows"].items():
            if row_op != op:
                continue
            lines.append(f"| {name} | " + " | ".join(_md_cell(cells.get(c, "-")) for c in cols) + " |" + " - |" * len(unavailable))
        lines.append("")
    if zoo is not None:
        from suite.zoo_report import zoo_markdown

        lines.append(zoo_markdown(zoo))
    return "\n".join(lines)


def matrix_html(certs: list[dict], unavailable: dict[str, str], links: dict | None = None, zoo: dict | None = None) -> str:
    m = matrix_data(certs, unavailable)
    cols = m["columns"]
    parts = ["<h1>softmax-suite conformance matrix</h1>"]
    if certs:
        parts.append(f"<p>{_e(provenance(certs))}</p>")
    if unavailable:
        parts.append("<h2>Unavailable implementations</h2><ul id=\"unavailable\">" + "".join(f"<li><b>{_e(n)}</b>: {_e(r)}</li>" for n, r in unavailable.items()) + "</ul>")
    ops = []
    for op, _ in m["rows"]:
        if op not in ops:
            ops.append(op)
    for op in ops:
        parts.append(f"<h2>{_e(op)}</h2><table class=\"matrix\" id=\"matrix-{_e(op)}\"><tr><th>property / behaviour</th>")
        parts += [f"<th>{_e(c)}</th>" for c in cols] + [f"<th class=\"unavailable\">{_e(n)}</th>" for n in unavailable] + ["</tr>"]
        parts.append("<tr><th>verdict</th>")
        for col in cols:
            v = m["verdicts"].get((op, col))
            link = (links or {}).get((op, col))
            cls = "pass" if v == "certified" else ("fail" if v else "skipped")
            text = _e(v or "-")
            parts.append(f"<td class=\"{cls}\">" + (f"<a href=\"{_e(link)}\">{text}</a>" if link else text) + "</td>")
        parts += [f"<td class=\"unavailable\" title=\"{_e(r)}\">unavailable</td>" for r in unavailable.values()] + ["</tr>"]
        for (row_op, name), cells in m["rows"].items():
            if row_op != op:
                continue
            parts.append(f"<tr><td>{_e(name)}</td>")
            for col in cols:
                text = cells.get(col, "-")
                cls = "num" if name.startswith(("error profile", "speed")) else _cell_class(text)
                parts.append(f"<td class=\"{cls}\">{_e(text)}</td>")
            parts += ["<td class=\"unavailable\">-</td>" for _ in unavailable] + ["</tr>"]
        parts.append("</table>")
    parts.append("<h2>Error profiles</h2>")
    parts += _plots_html([_matrix_plots], certs)
    if any((c.get("speed") or {}).get("measured") for c in certs):
        parts.append("<h2>Speed</h2>")
        parts += _plots_html([_matrix_speed_plots], certs, empty="nothing timed")
    if zoo is not None:
        from suite.zoo_report import zoo_html

        parts.append(zoo_html(zoo))
    return _page("softmax-suite conformance matrix", "\n".join(parts))


def _matrix_plots(certs: list[dict]) -> list[tuple[str, str]]:
    """Per op: max ULP error against logit magnitude, one line per implementation and dtype: with
    the shift excused where the profile has it (the plain error is the input's conditioning on large
    logits, one line for every implementation)."""
    plt = _matplotlib()
    if plt is None:
        return []
    plots = []
    ops = []
    for c in certs:
        if c["op"] not in ops and any("row_max_ulp" in a for a in c.get("accuracy", {}).values()):
            ops.append(c["op"])
    for op in ops:
        dtypes = []
        for c in certs:
            if c["op"] == op:
                dtypes += [d for d, a in c.get("accuracy", {}).items() if "row_max_ulp" in a and d not in dtypes]
        fig, axes = plt.subplots(1, len(dtypes), figsize=(3.3 * len(dtypes), 2.8), squeeze=False, sharey=True)
        for ax, dtype in zip(axes[0], dtypes):
            for c in certs:
                a = c.get("accuracy", {}).get(dtype)
                if c["op"] != op or not a or "row_max_ulp" not in a:
                    continue
                pts = [(_num(m), _num(e)) for m, e in zip(a["magnitude"], a.get("row_max_ulp_mixed", a["row_max_ulp"]))]
                ax.plot([m for m, e in pts], [min(max(e, 1e-3), 1e30) if math.isfinite(e) else 1e30 for m, e in pts], "-", lw=1, label=c["implementation"])
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(dtype, fontsize=9)
            ax.set_xlabel("max|x|", fontsize=8)
            ax.grid(True, alpha=0.3)
        axes[0][0].set_ylabel("max ULP error, shift excused", fontsize=8)
        axes[0][-1].legend(fontsize=6)
        fig.suptitle(f"{op}: error against logit magnitude", fontsize=10, y=1.0)
        fig.tight_layout()
        plots.append((f"{op}: error in ULPs (the rounding of x - max(x) excused) against logit magnitude, per dtype", _png(fig, plt)))
    return plots


def _matrix_speed_plots(certs: list[dict]) -> list[tuple[str, str]]:
    plt = _matplotlib()
    if plt is None:
        return []
    return [
        (f"{op}: achieved bandwidth as a fraction of a memory copy measured in the same run, per implementation and shape", _png(fig, plt))
        for op, fig in speed_report.draw_matrix_speed(certs, plt)
    ]


def write_matrix(
    certs: list[dict], unavailable: dict[str, str], directory: Path | str, links: dict | None = None, zoo: dict | None = None
) -> list[Path]:
    """matrix.md, matrix.html (also index.html) and matrix.json; with ``zoo`` (see :mod:`suite.zoo`)
    also the self-validation section and zoo.json."""
    data = matrix_data(certs, unavailable)
    summary = {
        "schema_version": "1.0",
        "columns": data["columns"],
        "unavailable": unavailable,
        "certificates": [
            {"implementation": c["implementation"], "op": c["op"], "verdict": c["verdict"], "path": (links or {}).get((c["op"], c["implementation"]), "")}
            for c in certs
        ],
        "rows": [{"op": op, "row": name, "cells": cells} for (op, name), cells in data["rows"].items()],
    }
    markdown = matrix_markdown(certs, unavailable, links, zoo)
    page = _html_or_fallback(lambda: matrix_html(certs, unavailable, links, zoo), markdown, "matrix.md", "softmax-suite conformance matrix")
    files = {
        "matrix.md": markdown,
        "matrix.html": page,
        "index.html": page,
        "matrix.json": json.dumps(_json_safe(summary), indent=2) + "\n",
    }
    if zoo is not None:
        files["zoo.json"] = json.dumps(_json_safe(zoo), indent=2) + "\n"
    return write_files(Path(directory), files)
