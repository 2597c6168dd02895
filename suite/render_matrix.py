"""Rendering the conformance matrix: one column per implementation (labelled by device when
certificates come from several machines), one row per property, behaviour, grade and speed
figure, per op; as Markdown and as an HTML page with plots; the zoo's section when given."""
from __future__ import annotations

import math
import re
from pathlib import Path

from suite import speed_report
from suite.render import (
    NOT_APPLICABLE, STATUS_MARK, escape, fmt_figure, fmt_ulp, html_page, load_matplotlib, md_cell, plain_number, plots_html, png_img,
    short_dtypes,
)
from suite.render_certificate import dtypes_cell, property_detail
from suite.runner import ERROR, FAIL, IMPL_DEFINED, PASS, SKIP


def column_label(cert: dict, certs: list[dict]) -> str:
    """A matrix column: the implementation, and where the certificates hold the same one from
    several machines or devices (merged with ``softmax-suite matrix``), its device and host."""
    same = {(c["device"], c["machine"].get("node", "")) for c in certs if c["implementation"] == cert["implementation"]}
    if len(same) <= 1:
        return cert["implementation"]
    return f"{cert['implementation']} ({cert['device']} on {cert['machine'].get('node') or 'an unnamed host'})"


def matrix_data(certs: list[dict], unavailable: dict[str, str]) -> dict:
    """Columns: implementations (and device and host, where one ran on several); rows: (op,
    property or behaviour); cells: a short status ("rows", as matrix.json has them), with the
    compact form the detail tables show ("short") and the whole text behind it ("long")."""
    columns = []
    for c in certs:
        if column_label(c, certs) not in columns:
            columns.append(column_label(c, certs))
    rows: dict[tuple[str, str], dict[str, str]] = {}
    short: dict[tuple[str, str], dict[str, str]] = {}
    long: dict[tuple[str, str], dict[str, str]] = {}
    verdicts: dict[tuple[str, str], str] = {}

    def put(op, name, column, cell, brief=None, whole=None):
        rows.setdefault((op, name), {})[column] = cell
        short.setdefault((op, name), {})[column] = cell if brief is None else brief
        long.setdefault((op, name), {})[column] = cell if whole is None else whole

    for c in certs:
        column = column_label(c, certs)
        verdicts[(c["op"], column)] = c["verdict"]
        versions = c.get("implementation_versions") or {}
        put(c["op"], "versions", column, ", ".join(f"{k} {v}" for k, v in versions.items()) or "-")
        put(c["op"], "device", column, f"{c['device']} ({c['machine'].get('processor') or c['machine'].get('machine', '')}, {c['machine'].get('cpu_count')} CPUs)")
        unsupported = f" (unsupported: {short_dtypes(c['unsupported_dtypes'])})" if c.get("unsupported_dtypes") else ""
        put(c["op"], "dtypes certified", column, dtypes_cell(c), short_dtypes(c["dtypes"]) + unsupported)
        for p in c["properties"]:
            put(c["op"], p["name"], column, property_cell(p), short_cell(p), long_cell(p))
        for name, cell in error_profile_cells(c.get("accuracy", {})).items():
            put(c["op"], name, column, cell, cell.split("; ")[0])
        for name, cell in {**speed_report.matrix_cells(c), **speed_report.matrix_size_cells(c)}.items():
            put(c["op"], name, column, cell)
    implementation_of = {column_label(c, certs): c["implementation"] for c in certs}
    return {"columns": columns, "unavailable": unavailable, "verdicts": verdicts, "rows": rows, "short": short, "long": long,
            "implementation_of": implementation_of}


def _undecided(p: dict) -> list[str]:
    return [d for d, o in p["dtypes"].items() if o["status"] == ERROR]


def property_cell(p: dict) -> str:
    """A property's matrix cell (matrix.json's): pass, FAIL (dtypes), a grade, a behaviour, or
    'could not decide (suite error) (dtypes)' where the suite raised instead of deciding."""
    if _undecided(p) and p["status"] != FAIL:
        return f"{STATUS_MARK[ERROR]} ({', '.join(_undecided(p))})"
    if p["status"] == IMPL_DEFINED:
        return property_detail(p)
    if p.get("graded"):
        return graded_cell(p)
    if p["status"] == FAIL:
        return "FAIL (" + ", ".join(d for d, o in p["dtypes"].items() if o["status"] == FAIL) + ")"
    if p["status"] == SKIP:
        return "skipped"
    worst = p.get("worst_ulp")
    return "pass" + (f" ({fmt_ulp(worst)} ULP)" if worst not in (None, "") else "")


def short_cell(p: dict) -> str:
    """The detail table's compact cell: dtypes abbreviated, behaviours and grades merged across
    the dtypes that share them, figures and second clauses left to the whole text."""
    undecided = _undecided(p)
    if undecided and p["status"] != FAIL:
        return f"{STATUS_MARK[ERROR]} ({short_dtypes(undecided)})"
    if p["status"] == IMPL_DEFINED:
        return short_behaviour(p)
    failing = [d for d, o in p["dtypes"].items() if o["status"] == FAIL]
    if p["status"] == FAIL:
        grades = sorted({o["grade"] for o in p["dtypes"].values() if o.get("grade") and o["status"] == FAIL})
        return f"FAIL ({short_dtypes(failing)})" + (f", {'/'.join(grades)}" if grades else "")
    if p.get("graded") and p["status"] != SKIP:
        by_grade: dict[str, list[str]] = {}
        for d, o in p["dtypes"].items():
            if o.get("grade"):
                by_grade.setdefault(o["grade"], []).append(d)
        if len(by_grade) == 1:
            return f"pass, {next(iter(by_grade))}"
        return "pass, " + "; ".join(f"{g} ({short_dtypes(ds)})" for g, ds in by_grade.items())
    if p["status"] == SKIP:
        return NOT_APPLICABLE if p.get("graded") else "skipped"
    return property_cell(p)


def long_cell(p: dict) -> str:
    """The whole text behind a compact cell: the matrix cell, and for each dtype that failed or
    that the suite could not decide, the first line of its message."""
    cell = property_cell(p)
    if p["status"] == SKIP and p.get("reason"):
        return f"{cell}: {p['reason']}" if not cell.startswith(NOT_APPLICABLE) else cell
    lines = [cell]
    for d, o in p["dtypes"].items():
        if o["status"] in (FAIL, ERROR) and o.get("message"):
            lines.append(f"{d}: {o['message'].strip().splitlines()[0]}")
    return "\n".join(lines)


def _short_observation(observation: str) -> tuple[str, list[str]]:
    """'NaN; the ordinary row beside it is wrong: out[...]...' -> ('NaN', ['the ordinary row beside
    it is wrong']): the first clause without its figures, and the gist of each further clause."""
    first, *rest = observation.split("; ")
    first = re.sub(r" \((?:max|mean|p99) [^)]*\)", "", first)
    if len(first) > 32 and ": " in first:
        first = first.split(": ", 1)[0]
    return first, [r.split(": ", 1)[0] for r in rest]


def short_behaviour(p: dict) -> str:
    """An implementation-defined behaviour over dtypes, e.g. 'NaN; the ordinary row beside it is
    wrong (f16)', 'preserved (f16); flushed to zero (bf16, f32, f64)'."""
    firsts: dict[str, list[str]] = {}
    notes: dict[str, list[str]] = {}
    for d, o in p["dtypes"].items():
        first, rest = _short_observation(o.get("observation", ""))
        firsts.setdefault(first, []).append(d)
        for note in rest:
            notes.setdefault(note, []).append(d)
    every = list(p["dtypes"])
    said = [f if len(firsts) == 1 else f"{f} ({short_dtypes(ds)})" for f, ds in firsts.items()]
    said += [n if ds == every else f"{n} ({short_dtypes(ds)})" for n, ds in notes.items()]
    return "; ".join(said)


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
    if text.startswith(STATUS_MARK[ERROR]):
        return "suite-error"
    if text.startswith("pass"):
        return PASS
    if text.startswith("FAIL"):
        return "fail"
    if text == "skipped" or text == "" or text.startswith(NOT_APPLICABLE):
        return SKIP
    return IMPL_DEFINED


DETAIL_HIDDEN = ("versions", "device")  # shown once per implementation, in the summary grid


def machine_description(m: dict) -> str:
    where = m.get("processor") or m.get("machine", "")
    return f"{m.get('platform', '')}, {where}, {m.get('cpu_count')} CPUs, {m.get('python_implementation', 'Python')} {m.get('python', '')}".strip(", ")


def provenance(certs: list[dict]) -> str:
    """Where the matrix's certificates come from: profile, seed and policy, and the machine(s)."""
    settings = sorted({(c["profile"], c["seed"], c["policy"]) for c in certs})
    said = "; ".join(f"profile {p}, seed {s}, policy {q}" for p, s, q in settings)
    machines = {}
    for c in certs:
        machines.setdefault(c["machine"].get("node", ""), machine_description(c["machine"]))
    if len(machines) == 1:
        return f"{said[0].upper()}{said[1:]}; {next(iter(machines.values()))}."
    where = "; ".join(f"{node or '?'} ({description})" for node, description in machines.items())
    return f"{said[0].upper()}{said[1:]}. Certificates from {len(machines)} machines: {where}."


def _settings_key(c: dict) -> tuple:
    sizes = c.get("sizes") or {}
    timed = bool((c.get("speed") or {}).get("measured") or (c.get("speed") or {}).get("pending"))
    return (c["profile"], c["seed"], c["policy"], tuple(sizes.get("classes") or ()), tuple(sizes.get("rows") or ()), timed)


def _options(key: tuple) -> str:
    profile, seed, policy, classes, rows, timed = key
    said = f" --profile {profile} --seed {seed}" + (f" --policy {policy}" if policy != "default" else "")
    said += f" --classes {','.join(map(str, classes))}" if classes else ""
    said += f" --rows {','.join(map(str, rows))}" if rows else ""
    return said + ("" if timed else " --no-speed")


def run_commands(certs: list[dict]) -> list[str]:
    """The commands that make these certificates, from what each records (implementation, op,
    profile, seed, policy, pinned sizes, whether timed): one ``run`` per group of built-ins that
    share the settings, one ``certify`` per third-party target and op (a target's file by name)."""
    from suite.render_grid import GROUPS

    builtin = {name for _, names in GROUPS for name in names}
    runs: dict[tuple, list[str]] = {}
    commands = []
    for c in certs:
        key = _settings_key(c)
        if c["implementation"] in builtin:
            names = runs.setdefault(key, [])
            names += [c["implementation"]] if c["implementation"] not in names else []
        else:
            target = c["target"] if not Path(c["target"]).is_absolute() else Path(c["target"]).name
            commands.append(f"softmax-suite certify {target} --op {c['op']}" + _options(key))
    return [f"softmax-suite run --implementations {','.join(names)}" + _options(key) for key, names in runs.items()] + commands


def provenance_markdown(certs: list[dict], command: str | None) -> list[str]:
    lines = ["## How this page was made", ""]
    if command:
        lines += [f"- this page: `{command}`"]
    lines += [f"- the certificates: `{c}`" for c in run_commands(certs)]
    lines += [f"- {provenance(certs)}", ""]
    return lines


def provenance_html(certs: list[dict], command: str | None) -> str:
    items = [f"<li>this page: <code>{escape(command)}</code></li>"] if command else []
    items += [f"<li>the certificates: <code>{escape(c)}</code></li>" for c in run_commands(certs)]
    items.append(f"<li>{escape(provenance(certs))}</li>")
    return "<h2 id=\"provenance\">How this page was made</h2><ul class=\"provenance\">" + "".join(items) + "</ul>"


def _ops(m: dict) -> list[str]:
    from suite.render_grid import op_order

    return op_order(op for op, _ in m["rows"])


def _detail_rows(m: dict, op: str, cols: list[str]) -> tuple[list[str], list[str]]:
    """The op's detail rows, and those every column passes (folded into one line)."""
    shown, passed = [], []
    for row_op, name in m["rows"]:
        if row_op != op or name in DETAIL_HIDDEN:
            continue
        cells = m["rows"][(op, name)]
        everywhere = all(cells.get(c) == "pass" for c in cols if (op, c) in m["verdicts"])
        (passed if everywhere else shown).append(name)
    return shown, passed


def _verdict_md(m: dict, op: str, col: str, links: dict | None) -> str:
    v = m["verdicts"].get((op, col))
    link = (links or {}).get((op, col))
    return "-" if v is None else (f"[{v}]({link})" if link else v)


def details_markdown(m: dict, op: str, links: dict | None) -> list[str]:
    from suite.render_grid import grouped

    groups = grouped(m["columns"], m["implementation_of"])
    cols = [c for _, cs in groups for c in cs]
    shown, passed = _detail_rows(m, op, cols)
    lines = [f"### {op}", "", "Columns: " + "; ".join(f"{g}: {', '.join(cs)}" for g, cs in groups) + ".", ""]
    lines += ["| property / behaviour | " + " | ".join(cols) + " |", "|---" * (1 + len(cols)) + "|"]
    lines.append("| **verdict** | " + " | ".join(_verdict_md(m, op, c, links) for c in cols) + " |")
    notes: dict[str, int] = {}
    for name in shown:
        cells = [md_cell(_md_detail_cell(m, op, name, col, notes)) for col in cols]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    if passed:
        lines += [f"Passed by every implementation: {', '.join(passed)}.", ""]
    if notes:
        lines += ["<details><summary>The whole text of the cells marked [n]</summary>", ""]
        lines += [f"- [{n}] {md_cell(text)}" for text, n in notes.items()] + ["", "</details>", ""]
    return lines


def _md_detail_cell(m: dict, op: str, name: str, col: str, notes: dict[str, int]) -> str:
    """The compact cell, marked [n] where its whole text says more (a note under the table,
    shared by the cells of a row whose whole text is the same); skips and the dtypes row are
    whole already (their reason is the certificate's, the legend spells the dtypes)."""
    brief, whole = m["short"][(op, name)].get(col, "-"), m["long"][(op, name)].get(col, "-")
    if whole == brief or name == "dtypes certified" or brief.startswith("skipped"):
        return brief
    key = f"{name}: " + whole.replace("\n", "; ")
    notes.setdefault(key, len(notes) + 1)
    return f"{brief} [{notes[key]}]"


def matrix_markdown(certs: list[dict], unavailable: dict[str, str], links: dict | None = None, zoo: dict | None = None,
                    command: str | None = None, bugs: bool = True) -> str:
    """The matrix in Markdown: the summary grid, how it was made, each op's details, the zoo's
    section when given, and (``bugs``) the recorded defects the grid links to."""
    from suite.render_grid import bug_keys, bugs_static_markdown, grid_data, grid_markdown

    m = matrix_data(certs, unavailable)
    grid = grid_data(certs, m["columns"], lambda c: column_label(c, certs), links)
    lines = ["# softmax-suite conformance matrix", ""]
    lines += grid_markdown(grid, unavailable)
    if certs:
        lines += provenance_markdown(certs, command)
    lines += ["## Details per op", "", "Dtypes: f16 float16, bf16 bfloat16, f32 float32, f64 float64.", ""]
    for op in _ops(m):
        lines += details_markdown(m, op, links)
    if zoo is not None:
        from suite.zoo_report import zoo_markdown

        lines.append(zoo_markdown(zoo))
    if bugs:
        lines += bugs_static_markdown(bug_keys(grid))
    return "\n".join(lines)


def _cell_html(brief: str, whole: str, css: str) -> str:
    if whole == brief:
        return f"<td class=\"{css}\"{{impl}}>{escape(brief)}</td>"
    return f"<td class=\"{css}\"{{impl}}><details><summary>{escape(brief)}</summary><div class=\"whole\">{escape(whole)}</div></details></td>"


def details_html(m: dict, op: str, links: dict | None) -> str:
    from suite.render_grid import anchor, grouped

    groups = grouped(m["columns"], m["implementation_of"])
    cols = [c for _, cs in groups for c in cs]
    shown, passed = _detail_rows(m, op, cols)
    impl = {c: f" data-impl=\"{escape(c)}\"" for c in cols}
    parts = [f"<section class=\"op\" data-op=\"{escape(op)}\" id=\"{anchor('d', op)}\"><h3>{escape(op)}</h3>",
             f"<table class=\"matrix details\" id=\"matrix-{escape(op)}\"><colgroup><col class=\"name\">" + "<col>" * len(cols) + "</colgroup>",
             "<thead><tr class=\"groups\"><th></th>" + "".join(f"<th colspan=\"{len(cs)}\" data-group=\"{g}\">{g}</th>" for g, cs in groups) + "</tr>",
             "<tr class=\"names\"><th>property / behaviour</th>"]
    parts += [f"<th data-group=\"{g}\"{impl[c]}>{escape(c)}</th>" for g, cs in groups for c in cs] + ["</tr></thead><tbody>"]
    parts.append(f"<tr id=\"{anchor('d', op, 'verdict')}\"><th>verdict</th>" + "".join(_verdict_html(m, op, c, links, impl[c]) for c in cols) + "</tr>")
    for name in shown:
        numeric = name.startswith(("error profile", "speed"))
        cells = []
        for col in cols:
            brief, whole = m["short"][(op, name)].get(col, "-"), m["long"][(op, name)].get(col, "-")
            css = "num" if numeric else ("" if name == "dtypes certified" else cell_class(m["rows"][(op, name)].get(col, "")))
            cells.append(_cell_html(brief, whole, css).replace("{impl}", impl[col]))
        parts.append(f"<tr id=\"{anchor('d', op, name)}\"><th>{escape(name)}</th>" + "".join(cells) + "</tr>")
    if passed:
        ids = "".join(f"<span id=\"{anchor('d', op, n)}\"></span>" for n in passed)
        parts.append(f"<tr class=\"folded\"><th>passed by every implementation</th><td colspan=\"{len(cols)}\">{ids}{escape(', '.join(passed))}</td></tr>")
    return "\n".join(parts + ["</tbody></table></section>"])


def _verdict_html(m: dict, op: str, col: str, links: dict | None, impl: str) -> str:
    v = m["verdicts"].get((op, col))
    link = (links or {}).get((op, col))
    cls = {"certified": "pass", "undecided": "suite-error", None: "skipped"}.get(v, "fail")
    text = escape(v or "-")
    return f"<td class=\"{cls}\"{impl}>" + (f"<a href=\"{escape(link)}\">{text}</a>" if link else text) + "</td>"


def filters_html(m: dict, ops: list[str]) -> str:
    """Checkboxes that show or hide ops (grid columns, detail sections) and libraries (grid rows,
    detail columns): plain inline script, no network."""
    from suite.render_grid import grouped

    op_boxes = "".join(f"<label><input type=\"checkbox\" data-filter-op=\"{escape(o)}\" checked> {escape(o)}</label>" for o in ops)
    groups = grouped(m["columns"] + list(m["unavailable"]), m["implementation_of"])
    impl_boxes = "".join(
        f"<span class=\"fgroup\">{escape(g)}:</span>" + "".join(f"<label><input type=\"checkbox\" data-filter-impl=\"{escape(c)}\" checked> {escape(c)}</label>" for c in cs)
        for g, cs in groups
    )
    return (f"<div id=\"filters\"><div><b>ops</b> {op_boxes}</div><div><b>libraries</b> {impl_boxes}</div></div>"
            f"<script>{FILTER_JS}</script>")


FILTER_JS = """
function applyFilters() {
  var hide = function (attr) {
    var off = {};
    document.querySelectorAll('input[data-filter-' + attr + ']').forEach(function (i) { off[i.getAttribute('data-filter-' + attr)] = !i.checked; });
    document.querySelectorAll('[data-' + attr + ']').forEach(function (el) {
      if (el.tagName !== 'INPUT') { el.style.display = off[el.getAttribute('data-' + attr)] ? 'none' : ''; }
    });
  };
  hide('op'); hide('impl');
  document.querySelectorAll('table.details').forEach(function (t) {
    t.querySelectorAll('tr.groups th[data-group]').forEach(function (g) {
      var n = t.querySelectorAll('tr.names th[data-group="' + g.getAttribute('data-group') + '"]:not([style*="none"])').length;
      g.colSpan = Math.max(n, 1); g.style.display = n ? '' : 'none';
    });
  });
}
document.addEventListener('change', function (e) { if (e.target.matches('#filters input')) { applyFilters(); } });
"""


MATRIX_CSS = """
body{max-width:none;margin:1em 2em}
table.grid,table.details{width:100%;table-layout:fixed}
table.grid td,table.grid th,table.details td,table.details th{overflow-wrap:anywhere;font-size:12px;padding:3px 5px}
table.grid col.impl{width:230px}table.details col.name{width:170px}
table.grid .meta{font-weight:normal;font-size:11px;color:#555}table.grid .reason{font-size:11px;font-weight:normal;margin-top:2px}
table.grid td.pass .verdict{font-weight:bold}.grade{display:inline-block;border:1px solid #999;border-radius:3px;padding:0 3px;margin-left:4px;font-size:11px}
a.bug{font-size:11px;color:#8a1c1c}th small{color:#777;font-weight:normal}
table.details thead tr.names th{position:sticky;top:0;z-index:1;box-shadow:0 1px 0 #ccc}
table.details tr.groups th{background:#e6ecf5;text-align:center}
details summary{cursor:pointer}details .whole{white-space:pre-wrap;font-weight:normal;margin-top:3px}
td.absent{color:#999}#filters{font-size:12px;margin:0.3em 0}h1{margin:0.3em 0}p.legend{font-size:12px;color:#555}#filters label{margin-right:0.8em;white-space:nowrap}
#filters .fgroup{color:#666;margin:0 0.3em 0 0.6em}
"""


def matrix_html(certs: list[dict], unavailable: dict[str, str], links: dict | None = None, zoo: dict | None = None,
                command: str | None = None) -> str:
    from suite.render_grid import bug_keys, bugs_static_html, grid_data, grid_html

    m = matrix_data(certs, unavailable)
    grid = grid_data(certs, m["columns"], lambda c: column_label(c, certs), links)
    ops = _ops(m)
    parts = [f"<style>{MATRIX_CSS}</style><h1>softmax-suite conformance matrix</h1>", filters_html(m, ops), grid_html(grid, unavailable)]
    if certs:
        parts.append(provenance_html(certs, command))
    parts.append("<h2 id=\"details\">Details per op</h2><p class=\"legend\">Dtypes: f16 float16, bf16 bfloat16, f32 float32, f64 float64; "
                 "a cell with a triangle opens to its whole text.</p>")
    parts += [details_html(m, op, links) for op in ops]
    parts.append("<h2>Error profiles</h2>")
    parts += plots_html([_matrix_plots], certs)
    if any((c.get("speed") or {}).get("measured") for c in certs):
        parts.append("<h2>Speed</h2>")
        parts += plots_html([_matrix_speed_plots], certs, empty="nothing timed")
    if zoo is not None:
        from suite.zoo_report import zoo_html

        parts.append(zoo_html(zoo))
    parts.append(bugs_static_html(bug_keys(grid)))
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
    plots = [
        (f"{op}: achieved bandwidth as a fraction of a memory copy measured in the same run, per implementation and shape", png_img(fig, plt))
        for op, fig in speed_report.draw_matrix_speed(certs, plt)
    ]
    for op, fig in speed_report.draw_matrix_sizes(certs, plt):
        cliffs = [f"{c['implementation']}: " + cell for c in certs if c["op"] == op
                  for cell in speed_report.matrix_size_cells(c).values()]
        plots.append((f"{op}: GB/s against size along the kernel-scale menus, per implementation; cliffs: " + "; ".join(cliffs), png_img(fig, plt)))
    return plots
