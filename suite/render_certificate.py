"""Rendering one certificate: the summary table, the speed lines, the readable failure reports
(property, minimal input, expected vs got, a one-line repro), the Markdown document and the
HTML page with its plots."""
from __future__ import annotations

import math

from suite import speed_report
from suite.render_coverage import coverage_html, coverage_markdown
from suite.render import LONG_VALUE_CHARS, NOT_APPLICABLE, STATUS_MARK, status_class, edge_label, escape, fmt_figure, fmt_ulp, html_page, load_matplotlib, md_cell, plain_number, plots_html, png_img, status_mark
from suite.runner import ERROR, FAIL, IMPL_DEFINED, PASS, SKIP


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
    undecided = [d for d, o in entry["dtypes"].items() if o["status"] == ERROR]
    if undecided and entry["status"] != FAIL:
        first = (entry["dtypes"][undecided[0]].get("message") or "").splitlines()
        return f"{STATUS_MARK[ERROR]} on {', '.join(undecided)}" + (f": {first[0]}" if first else "")
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
    return lines[:1] + ["-" * len(lines[0])] + lines[1:] + [f"speed: {n}" for n in notes] + speed_report.sizes_lines(cert)


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


def _suite_errors_markdown(cert: dict) -> list[str]:
    reports = suite_error_reports(cert)
    if not reports:
        return []
    lines = ["## Could not decide (suite errors)", "", "The suite raised while deciding these; they are not findings about the implementation.", ""]
    for r in reports:
        lines += ["```", r, "```", ""]
    return lines


def certificate_markdown(cert: dict) -> str:
    lines = [
        f"# softmax-suite certificate: {cert['target']} ({cert['op']})",
        "",
        f"**Verdict: {cert['verdict']}**" + (f" - {len(cert['reasons'])} problem(s)" if cert["reasons"] else ""),
        "",
        *([f"Accuracy grade: {md_cell(accuracy_line(cert))}", ""] if accuracy_line(cert) else []),
        "| | |",
        "|---|---|",
        f"| target | `{md_cell(cert['target'])}` |",
        f"| implementation | {md_cell(cert['implementation'])} {md_cell(cert.get('description', ''))} |",
        f"| op | `{cert['op_signature']}` |",
        f"| backend / device | {cert['backend']} / {cert['device']} |",
        f"| dtypes | {dtypes_cell(cert)} |",
        f"| profile / seed / policy | {cert['profile']} / {cert['seed']} / {cert['policy']} |",
        f"| versions | {md_cell(', '.join(f'{k} {v}' for k, v in cert['library_versions'].items()))} |",
        f"| machine | {md_cell(cert['machine'].get('platform', ''))}, {cert['machine'].get('cpu_count')} CPUs, Python {cert['machine'].get('python')} |",
        f"| schema | {cert['schema_version']} (docs/certificate-schema.md) |",
        "",
    ]
    if cert["reasons"]:
        lines += ["## Why undecided" if cert["verdict"] == "undecided" else "## Why not certified", ""] + [f"- {md_cell(r)}" for r in cert["reasons"]] + [""]
    if cert.get("load_error"):
        lines += ["```", cert["load_error"].get("details", ""), "```", ""]
    lines += _suite_errors_markdown(cert)
    lines += ["## Properties", "", "| property | status | worst error | detail |", "|---|---|---:|---|"]
    for row in summary_rows(cert):
        lines.append("| " + " | ".join(md_cell(c) for c in row) + " |")
    lines.append("")
    lines += coverage_markdown(cert)
    if cert["implementation_defined"]:
        lines += ["## Implementation-defined behaviours", "", "| behaviour | dtype | observed |", "|---|---|---|"]
        for b in cert["implementation_defined"]:
            lines.append(f"| {b['property']} | {b['dtype']} | {md_cell(b['observation'])} |")
        lines.append("")
    if cert.get("accuracy"):
        header, rows, notes = error_profile_table(cert["accuracy"])
        lines += ["## Error profile (against the extended-precision oracle)", "", ERROR_PROFILE_LEGEND, ""]
        lines += ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
        lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
        lines += [""] + [f"- {md_cell(n)}" for n in notes] + ([""] if notes else [])
    header, rows, notes = speed_report.speed_table(cert)
    if rows or notes:
        lines += ["## Speed", "", speed_report.LEGEND, ""]
        if rows:
            lines += ["| " + " | ".join(header) + " |", "|---|---|---|" + "---:|" * (len(header) - 4) + "---|"]
            lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
        lines += [""] + [f"- {md_cell(n)}" for n in notes] + [""]
    sizes = speed_report.sizes_lines(cert)
    if sizes:
        header, rows = speed_report.sizes_table(cert)
        lines += ["### Speed across sizes", ""] + [f"- {md_cell(n)}" for n in sizes] + [""]
        if rows:
            lines += ["| " + " | ".join(header) + " |", "|---|---:|---|---:|---:|"]
            lines += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows] + [""]
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
    return fmt_ulp(plain_number(acc[key])) if key in acc else "-"


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


def _accuracy_plots(cert: dict) -> list[tuple[str, str]]:
    """(caption, base64 PNG) for the ULP histograms per dtype and error against logit magnitude."""
    acc = {d: a for d, a in cert.get("accuracy", {}).items() if "hist_counts" in a}
    if not acc:
        return []
    plt = load_matplotlib()
    if plt is None:
        return []
    plots = []
    dtypes = list(acc)
    fig, axes = plt.subplots(1, len(dtypes), figsize=(3.2 * len(dtypes), 2.8), squeeze=False)
    for ax, dtype in zip(axes[0], dtypes):
        a = acc[dtype]
        edges = a["hist_edges"]
        labels = [f"<{edge_label(edges[i + 1])}" for i in range(len(edges) - 1)] + [f">={edge_label(edges[-1])}", "inf/NaN"]
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
    plots.append(("Error histograms in ULPs, per dtype", png_img(fig, plt)))

    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    cap = 1e30
    for dtype in dtypes:
        a = acc[dtype]
        mags = [plain_number(m) for m in a["magnitude"]]
        errs = [plain_number(e) for e in a["row_max_ulp"]]
        finite = [(m, max(e, 1e-3)) for m, e in zip(mags, errs) if math.isfinite(e)]
        bad = [m for m, e in zip(mags, errs) if not math.isfinite(e)]
        line = ax.plot([m for m, _ in finite], [e for _, e in finite], "o-", ms=3, lw=1, label=dtype)[0]
        if "row_max_ulp_mixed" in a:  # the same rows with the rounding of x - max(x) excused
            mixed = [(m, max(plain_number(e), 1e-3)) for m, e in zip(mags, a["row_max_ulp_mixed"]) if math.isfinite(plain_number(e))]
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
    plots.append(("Error against logit magnitude", png_img(fig, plt)))
    return plots


def _speed_plots(cert: dict) -> list[tuple[str, str]]:
    plt = load_matplotlib()
    fig = speed_report.draw_speed(cert, plt) if plt is not None else None
    if fig is None:
        return []
    plots = [(f"{cert['op']}: GB/s per shape, cold and warm, against a memory copy measured in the same run", png_img(fig, plt))]
    sizes = speed_report.draw_sizes(cert, plt)
    if sizes is not None:
        named = "; ".join(line for line in speed_report.sizes_lines(cert) if line.startswith(("cliff", "no cliff")))
        plots.append((f"{cert['op']}: GB/s against size along the kernel-scale menus; {named}", png_img(sizes, plt)))
    return plots


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
    plt = load_matplotlib()
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
    return [("ULP statistics recorded by the properties", png_img(fig, plt))]


PLOTS_LATER = "plots: drawn when this page is written again with its speed section, once the timing is done"


def _properties_html(cert: dict) -> list[str]:
    parts = []
    parts.append("<h2>Properties</h2><table id=\"properties\"><tr><th>property</th><th>status</th><th>worst error</th><th>per dtype</th><th>detail</th></tr>")
    for p in cert["properties"]:
        per = " ".join(
            f"<span class=\"{escape(status_class(o['status']))}\" title=\"{escape(o.get('message') or o.get('observation', ''))}\">{escape(d)}"
            + (f" {NOT_APPLICABLE}" if o["status"] == SKIP and p.get("graded") else "")
            + "</span>"
            for d, o in p["dtypes"].items()
        )
        name = p["name"] + ("" if p["required"] else " <small>(not required)</small>")
        parts.append(
            f"<tr><td title=\"{escape(p['statement'])}\">{name}</td><td class=\"{escape(status_class(p['status']))}\">{escape(status_mark(p))}</td>"
            f"<td class=\"num\">{escape(worst_cell(p))}</td><td>{per}</td><td>{escape(property_detail(p))}</td></tr>"
        )
    parts.append("</table>")
    return parts


def certificate_html(cert: dict, link_back: str | None = None, plots: bool = True) -> str:
    """The certificate's page; ``plots=False`` leaves the figures out (with a note): drawing them
    costs a second or more of CPU per certificate."""
    parts = []
    if link_back:
        parts.append(f'<p><a href="{escape(link_back)}">&larr; conformance matrix</a></p>')
    parts += [
        f"<h1>{escape(cert['target'])} &mdash; {escape(cert['op'])}</h1>",
        f"<h2 class=\"{verdict_class(cert)}\" id=\"verdict\">{escape(cert['verdict'])}</h2>",
    ]
    if accuracy_line(cert):
        parts.append(f"<p class=\"grade\">Accuracy grade: {escape(accuracy_line(cert))}</p>")
    if cert["reasons"]:
        parts.append("<ul>" + "".join(f"<li>{escape(r)}</li>" for r in cert["reasons"]) + "</ul>")
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
    parts.append("<table>" + "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in meta) + "</table>")
    errors = suite_error_reports(cert)
    if errors:
        parts.append("<h2 id=\"suite-errors\">Could not decide (suite errors)</h2><p>The suite raised while deciding these; they are not findings about the implementation.</p>")
        parts += [f"<pre class=\"suite-error\">{escape(e)}</pre>" for e in errors]
    parts += _properties_html(cert)
    parts.append(coverage_html(cert))
    if cert["implementation_defined"]:
        parts.append("<h2>Implementation-defined behaviours</h2><table><tr><th>behaviour</th><th>dtype</th><th>observed</th></tr>")
        for b in cert["implementation_defined"]:
            parts.append(f"<tr><td>{escape(b['property'])}</td><td>{escape(b['dtype'])}</td><td>{escape(b['observation'])}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Error profile</h2>")
    if cert.get("accuracy"):
        header, rows, notes = error_profile_table(cert["accuracy"])
        parts.append(f"<p>{escape(ERROR_PROFILE_LEGEND)}</p><table id=\"error-profile\"><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>")
        parts += ["<tr>" + "".join(f"<td class=\"num\">{escape(c)}</td>" for c in row) + "</tr>" for row in rows]
        parts.append("</table>" + "".join(f"<p class=\"fail\">{escape(n)}</p>" for n in notes))
    parts += plots_html([_accuracy_plots, _stats_plots], cert) if plots else [f"<p class=\"no-accuracy\">{escape(PLOTS_LATER)}</p>"]
    header, rows, notes = speed_report.speed_table(cert)
    if rows or notes:
        parts.append(f"<h2>Speed</h2><p>{escape(speed_report.LEGEND)}</p>")
        if rows:
            parts.append("<table id=\"speed\"><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>")
            parts += ["<tr>" + "".join(f"<td class=\"num\">{escape(c)}</td>" for c in row) + "</tr>" for row in rows]
            parts.append("</table>")
        parts += [f"<p>{escape(n)}</p>" for n in notes]
        if rows and plots:
            parts += plots_html([_speed_plots], cert, empty="nothing timed")
    failures = failure_reports(cert)
    if failures:
        parts.append("<h2>Failures</h2>")
        parts += [f"<pre>{escape(f)}</pre>" for f in failures]
    if cert.get("load_error"):
        parts.append(f"<pre>{escape(cert['load_error'].get('details', ''))}</pre>")
    return html_page(f"softmax-suite: {cert['target']} {cert['op']}", "\n".join(parts))


# --------------------------------------------------------------------------- suite errors


def suite_errors(cert: dict) -> list[dict]:
    """{"property", "dtype", "message"} for each (property, dtype) the suite could not decide: the
    certificate's list where it has one, else the outcomes marked ERROR (older certificates: none)."""
    if cert.get("suite_errors"):
        return list(cert["suite_errors"])
    return [
        {"property": p["name"], "dtype": d, "message": o.get("message", "")}
        for p in cert["properties"]
        for d, o in p["dtypes"].items()
        if o["status"] == ERROR
    ]


def suite_error_reports(cert: dict) -> list[str]:
    """Each undecided (property, dtype): 'could not decide (suite error)', and the suite's message
    and traceback; a bug in the suite, not a finding about the implementation."""
    return [
        f"{e['property']} ({e['dtype']}): {STATUS_MARK[ERROR]} - a bug in the suite, not in {cert['implementation']}\n{e.get('message', '').rstrip()}"
        for e in suite_errors(cert)
    ]


def accuracy_line(cert: dict) -> str:
    """The accuracy grade per dtype, worst first, and what the levels mean (docs/error-analysis.md sec. 5)."""
    from suite.render_grid import accuracy_grade

    _, full = accuracy_grade(cert)
    if not full:
        return ""
    return (full.removeprefix("accuracy: ") + " (levels, best first: correctly rounded, faithful, shifted-algorithm, "
            "certified tolerance; outside tolerance fails)")


def verdict_class(cert: dict) -> str:
    if cert["verdict"] == "undecided":
        return "verdict-undecided"
    return "verdict-certified" if cert["certified"] else "verdict-not"


def dtypes_cell(cert: dict) -> str:
    """"float16, float32 (unsupported: bfloat16)": what was certified, and what the target declared it does not support."""
    cell = ", ".join(cert["dtypes"])
    if cert.get("unsupported_dtypes"):
        cell += f" (unsupported: {', '.join(cert['unsupported_dtypes'])})"
    return cell
