"""Rendering the conformance matrix: one column per implementation (labelled by device when
certificates come from several machines), one row per property, behaviour, grade and speed
figure, per op; as Markdown and as an HTML page with plots; the zoo's section when given."""
from __future__ import annotations

import math

from suite import speed_report
from suite.render import NOT_APPLICABLE, escape, fmt_figure, fmt_ulp, html_page, load_matplotlib, md_cell, plain_number, plots_html, png_img
from suite.render_certificate import dtypes_cell, property_detail
from suite.runner import FAIL, IMPL_DEFINED, PASS, SKIP


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
    values = [plain_number(o.get("figure")) for o in outcomes if o.get("figure") not in (None, "")]
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
        worst = max(plain_number(a[f"max_{key}"]) for a in measured)
        p99 = max(plain_number(a[f"p99_{key}"]) for a in measured)
        cells[row] = f"max {fmt_ulp(worst if math.isfinite(worst) else 'inf')}, p99 {fmt_ulp(p99 if math.isfinite(p99) else 'inf')}"
    nonfinite = {d: a["nonfinite"] for d, a in accuracy.items() if a.get("nonfinite")}
    if nonfinite:
        note = "; " + ", ".join(f"{n} non-finite ({d})" for d, n in nonfinite.items())
        cells = {row: cell + note for row, cell in cells.items()}
    return cells


def cell_class(text: str) -> str:
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
            lines.append(f"| {name} | " + " | ".join(md_cell(cells.get(c, "-")) for c in cols) + " |" + " - |" * len(unavailable))
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
        parts.append(f"<p>{escape(provenance(certs))}</p>")
    if unavailable:
        parts.append("<h2>Unavailable implementations</h2><ul id=\"unavailable\">" + "".join(f"<li><b>{escape(n)}</b>: {escape(r)}</li>" for n, r in unavailable.items()) + "</ul>")
    ops = []
    for op, _ in m["rows"]:
        if op not in ops:
            ops.append(op)
    for op in ops:
        parts.append(f"<h2>{escape(op)}</h2><table class=\"matrix\" id=\"matrix-{escape(op)}\"><tr><th>property / behaviour</th>")
        parts += [f"<th>{escape(c)}</th>" for c in cols] + [f"<th class=\"unavailable\">{escape(n)}</th>" for n in unavailable] + ["</tr>"]
        parts.append("<tr><th>verdict</th>")
        for col in cols:
            v = m["verdicts"].get((op, col))
            link = (links or {}).get((op, col))
            cls = "pass" if v == "certified" else ("fail" if v else "skipped")
            text = escape(v or "-")
            parts.append(f"<td class=\"{cls}\">" + (f"<a href=\"{escape(link)}\">{text}</a>" if link else text) + "</td>")
        parts += [f"<td class=\"unavailable\" title=\"{escape(r)}\">unavailable</td>" for r in unavailable.values()] + ["</tr>"]
        for (row_op, name), cells in m["rows"].items():
            if row_op != op:
                continue
            parts.append(f"<tr><td>{escape(name)}</td>")
            for col in cols:
                text = cells.get(col, "-")
                cls = "num" if name.startswith(("error profile", "speed")) else cell_class(text)
                parts.append(f"<td class=\"{cls}\">{escape(text)}</td>")
            parts += ["<td class=\"unavailable\">-</td>" for _ in unavailable] + ["</tr>"]
        parts.append("</table>")
    parts.append("<h2>Error profiles</h2>")
    parts += plots_html([_matrix_plots], certs)
    if any((c.get("speed") or {}).get("measured") for c in certs):
        parts.append("<h2>Speed</h2>")
        parts += plots_html([_matrix_speed_plots], certs, empty="nothing timed")
    if zoo is not None:
        from suite.zoo_report import zoo_html

        parts.append(zoo_html(zoo))
    return html_page("softmax-suite conformance matrix", "\n".join(parts))


def _matrix_plots(certs: list[dict]) -> list[tuple[str, str]]:
    """Per op: max ULP error against logit magnitude, one line per implementation and dtype: with
    the shift excused where the profile has it (the plain error is the input's conditioning on large
    logits, one line for every implementation)."""
    plt = load_matplotlib()
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
                pts = [(plain_number(m), plain_number(e)) for m, e in zip(a["magnitude"], a.get("row_max_ulp_mixed", a["row_max_ulp"]))]
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
        plots.append((f"{op}: error in ULPs (the rounding of x - max(x) excused) against logit magnitude, per dtype", png_img(fig, plt)))
    return plots


def _matrix_speed_plots(certs: list[dict]) -> list[tuple[str, str]]:
    plt = load_matplotlib()
    if plt is None:
        return []
    return [
        (f"{op}: achieved bandwidth as a fraction of a memory copy measured in the same run, per implementation and shape", png_img(fig, plt))
        for op, fig in speed_report.draw_matrix_speed(certs, plt)
    ]
