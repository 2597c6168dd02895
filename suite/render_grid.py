"""The matrix's summary grid: one row per implementation (its group, versions and device), one
column per op; each cell the verdict, the accuracy grade and, where not certified, the first
reason in one line, linked to the op's details and to the defect in "Bugs found" that explains
it. Also the column groups the detail tables share, and the links from a certificate to the
defects recorded in suite/bugs_found.py."""
from __future__ import annotations

import re

from suite.render import STATUS_MARK, escape, md_cell, short_dtypes
from suite.runner import ERROR, FAIL


# The detail tables' column groups, in this order; an implementation named in none (a third-party
# target) is "other".
GROUPS = (
    ("references", ("numpy-reference", "jax-workarounds")),
    ("frameworks", ("torch-cpu", "torch-cuda", "jax", "tensorflow", "paddle", "mlx", "tinygrad", "scipy")),
    ("runtimes", ("onnxruntime", "openvino")),
    ("kernels", ("numba-fused",)),
)

REASON_CHARS = 72  # a grid cell's reason is cut here; the whole reason is its title and in the details


def group_of(implementation: str) -> str:
    return next((name for name, members in GROUPS if implementation in members), "other")


def grouped(columns: list[str], implementation_of: dict[str, str]) -> list[tuple[str, list[str]]]:
    """The columns in their groups, in GROUPS' order, and within a group in its order, then by name."""
    order = [g for g, _ in GROUPS] + ["other"]
    members = [name for _, names in GROUPS for name in names]
    rank = lambda col: (members.index(implementation_of.get(col, col)) if implementation_of.get(col, col) in members else len(members), col)  # noqa: E731
    by_group: dict[str, list[str]] = {}
    for col in sorted(columns, key=rank):
        by_group.setdefault(group_of(implementation_of.get(col, col)), []).append(col)
    return [(g, by_group[g]) for g in order if g in by_group]


def op_order(ops) -> list[str]:
    """The ops in the registry's order (softmax first), unknown ones after, each once."""
    from suite.ops import OPS

    known = list(OPS)
    seen = list(dict.fromkeys(ops))
    return sorted(seen, key=lambda op: (known.index(op) if op in known else len(known), seen.index(op)))


def anchor(*parts: str) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9_]+", "_", p).strip("_") for p in parts)


def _shorten_numbers(text: str) -> str:
    return re.sub(r"-?\d+\.\d{5,}(?:e[-+]?\d+)?", lambda m: f"{float(m.group()):.4g}", text)


def short_reason(reason: str, limit: int = REASON_CHARS) -> str:
    """'definition (float16): out[(86,)]=0.0006070137023925781, but should be ...' as one short
    line: dtypes abbreviated, long numbers to four digits, cut at ``limit`` characters."""
    m = re.match(r"(\w+) \(([\w, ]+)\)(: )?(.*)", reason, re.S)
    text = f"{m.group(1)} ({short_dtypes(m.group(2).split(', '))}){m.group(3) or ''}{m.group(4)}" if m else reason
    text = _shorten_numbers(" ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


def accuracy_grade(cert: dict) -> tuple[str, str]:
    """(short, full): the worst accuracy level over the dtypes (suite.verdict.ACCURACY_LEVELS) and
    every dtype's, e.g. ('faithful', 'accuracy: faithful on float16; correctly rounded on float64');
    ('', '') where the certificate records none (a certificate from before schema 2.2)."""
    from suite.verdict import ACCURACY_LEVELS, worst_level

    levels = cert.get("accuracy_levels") or {}
    if not levels:
        return "", ""
    by_level: dict[str, list[str]] = {}
    for dtype, level in levels.items():
        by_level.setdefault(level, []).append(dtype)
    ordered = sorted(by_level, key=ACCURACY_LEVELS.index, reverse=True)  # the worst first
    return worst_level(levels), "accuracy: " + "; ".join(f"{lv} on {', '.join(by_level[lv])}" for lv in ordered)


def bugs_for(cert: dict) -> list:
    """The defects in suite/bugs_found.py of this implementation's library and this op, those
    naming a failing property first (word matches in each record's ``found_by``)."""
    from suite.bugs_found import BUGS

    failing = [p["name"] for p in cert["properties"] if p["status"] == FAIL]
    word = lambda w, text: re.search(rf"(?<![\w]){re.escape(w)}(?![\w])", text) is not None  # noqa: E731
    mine = [b for b in BUGS if b.library.split(".")[0] == cert["implementation"] and word(cert["op"], b.found_by)]
    named = [b for b in mine if any(word(f, b.found_by) for f in failing)]
    return named or mine


def grid_cell(cert: dict, link: str | None) -> dict:
    """What the grid shows for one certificate."""
    from suite.render_certificate import suite_errors

    # the grade ranks what passes: a cell not certified shows its reason instead
    grade, grade_full = accuracy_grade(cert) if cert["certified"] else ("", "")
    cell = {"verdict": cert["verdict"], "link": link, "grade": grade, "grade_full": grade_full, "reason": "", "reason_full": "",
            "more": 0, "property": "", "bugs": [], "class": "pass" if cert["certified"] else "fail"}
    errors = suite_errors(cert)
    if cert["verdict"] == "undecided" or (errors and not cert["certified"] and not cert["reasons"]):
        cell["verdict"], cell["class"] = "undecided", "suite-error"
        first = errors[0] if errors else {"property": "", "dtype": "", "message": ""}
        cell["reason_full"] = "\n".join(f"{e['property']} ({e['dtype']}): {STATUS_MARK[ERROR]}: {e.get('message', '')}" for e in errors)
        cell["reason"], cell["property"] = short_reason(f"{first['property']} ({first['dtype']}): {STATUS_MARK[ERROR]}"), first["property"]
        cell["more"] = max(0, len(errors) - 1)
    elif not cert["certified"] and cert["reasons"]:
        cell["reason"], cell["reason_full"] = short_reason(cert["reasons"][0]), "\n".join(cert["reasons"])
        cell["property"] = cert["reasons"][0].split(" ", 1)[0]
        cell["more"] = len(cert["reasons"]) - 1
        cell["bugs"] = [(b.key, b.title) for b in bugs_for(cert)]
    return cell


def grid_data(certs: list[dict], columns: list[str], label, links: dict | None) -> dict:
    """{"ops", "rows": [{"column", "group", "versions", "device", "cells": {op: cell}}]}."""
    ops: list[str] = []
    rows: dict[str, dict] = {}
    for c in certs:
        col = label(c)
        ops += [c["op"]] if c["op"] not in ops else []
        row = rows.setdefault(col, {"column": col, "group": group_of(c["implementation"]), "versions": {}, "device": "", "cells": {}})
        row["versions"].update(c.get("implementation_versions") or {})
        m = c.get("machine", {})
        row["device"] = f"{c['device']} ({m.get('processor') or m.get('machine', '')}, {m.get('cpu_count')} CPUs)"
        row["cells"][c["op"]] = grid_cell(c, (links or {}).get((c["op"], col)))
    implementation_of = {label(c): c["implementation"] for c in certs}
    ordered = [rows[col] for _, cols in grouped(list(rows), implementation_of) for col in cols]
    return {"ops": op_order(ops), "rows": ordered}


def _versions(row: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in row["versions"].items()) or "-"


def grid_markdown(grid: dict, unavailable: dict[str, str]) -> list[str]:
    ops = grid["ops"]
    lines = ["## Summary", "", "Verdict per implementation and op; the accuracy grade of the worst dtype (correctly rounded, "
             "faithful, shifted-algorithm or certified tolerance: docs/error-analysis.md sec. 5); "
             "for one not certified, its first reason (the op's details have every one, and a defect found in the library "
             "links to its entry in Bugs found). Dtypes: f16 float16, bf16 bfloat16, f32 float32, f64 float64.", ""]
    lines += ["| implementation | " + " | ".join(ops) + " |", "|---" * (len(ops) + 1) + "|"]
    for row in grid["rows"]:
        head = f"**{md_cell(row['column'])}** ({row['group']})<br>{md_cell(_versions(row))}<br>{md_cell(row['device'])}"
        lines.append(f"| {head} | " + " | ".join(_md_grid_cell(row["cells"].get(op), op) for op in ops) + " |")
    for name, reason in unavailable.items():
        lines.append(f"| **{md_cell(name)}** | " + " | ".join([f"unavailable: {md_cell(reason)}"] + ["-"] * (len(ops) - 1)) + " |")
    return lines + [""]


def _md_grid_cell(cell: dict | None, op: str) -> str:
    if cell is None:
        return "-"
    verdict = f"[{cell['verdict']}]({cell['link']})" if cell["link"] else cell["verdict"]
    text = f"**{verdict}**" if cell["verdict"] == "certified" else verdict
    text += f", {cell['grade']}" if cell["grade"] else ""
    if cell["reason"]:
        text += f": [{md_cell(cell['reason'])}](#{op})" + (f" (+{cell['more']} more)" if cell["more"] else "")
    if cell["bugs"]:
        text += " " + " ".join(f"[bug](#bug-{key})" for key, _ in cell["bugs"][:2])
    return text


def grid_html(grid: dict, unavailable: dict[str, str]) -> str:
    ops = grid["ops"]
    parts = ["<h2 id=\"summary\">Summary</h2>",
             "<table class=\"grid\" id=\"grid\"><colgroup><col class=\"impl\">" + "<col>" * len(ops) + "</colgroup><thead><tr><th>implementation</th>"]
    parts += [f"<th data-op=\"{escape(op)}\"><a href=\"#{anchor('d', op)}\">{escape(op)}</a></th>" for op in ops] + ["</tr></thead><tbody>"]
    for row in grid["rows"]:
        parts.append(f"<tr data-impl=\"{escape(row['column'])}\"><th class=\"impl\"><b>{escape(row['column'])}</b> <small>{escape(row['group'])}</small>"
                     f"<div class=\"meta\">{escape(_versions(row))}<br>{escape(row['device'])}</div></th>")
        parts += [_html_grid_cell(row["cells"].get(op), op) for op in ops] + ["</tr>"]
    for name, reason in unavailable.items():
        parts.append(f"<tr data-impl=\"{escape(name)}\"><th class=\"impl\"><b>{escape(name)}</b></th>"
                     f"<td class=\"unavailable\" colspan=\"{len(ops)}\">unavailable: {escape(reason)}</td></tr>")
    legend = ("<p class=\"legend\">Verdict per implementation and op, the accuracy grade of the worst dtype "
              "(correctly rounded, faithful, shifted-algorithm or certified tolerance) and, for one not certified, its first reason: it links to the op's details, and <i>bug</i> to the "
              "defect found in the library. Dtypes: f16 float16, bf16 bfloat16, f32 float32, f64 float64.</p>")
    return "\n".join(parts + ["</tbody></table>", legend])


def _html_grid_cell(cell: dict | None, op: str) -> str:
    if cell is None:
        return f"<td class=\"absent\" data-op=\"{escape(op)}\" title=\"does not provide this op\">-</td>"
    text = escape(cell["verdict"])
    verdict = f"<a class=\"verdict\" href=\"{escape(cell['link'])}\">{text}</a>" if cell["link"] else f"<span class=\"verdict\">{text}</span>"
    grade = f" <span class=\"grade\" title=\"{escape(cell['grade_full'])}\">{escape(cell['grade'])}</span>" if cell["grade"] else ""
    reason = ""
    if cell["reason"]:
        more = f" <small>+{cell['more']} more</small>" if cell["more"] else ""
        reason = (f"<div class=\"reason\"><a href=\"#{anchor('d', op, cell['property'])}\" title=\"{escape(cell['reason_full'])}\">"
                  f"{escape(cell['reason'])}</a>{more}</div>")
    bugs = "".join(f" <a class=\"bug\" href=\"#bug-{escape(key)}\" title=\"{escape(title)}\">bug</a>" for key, title in cell["bugs"][:2])
    return f"<td class=\"{cell['class']}\" data-op=\"{escape(op)}\">{verdict}{grade}{reason}{bugs}</td>"


def bugs_static_html(keys: list[str]) -> str:
    """The defects the grid links to, as recorded (the published page runs each repro again)."""
    from suite.bugs_found import BUGS

    chosen = [b for b in BUGS if b.key in keys]
    if not chosen:
        return ""
    parts = ["<h2 id=\"bugs-found\">Bugs found</h2><p>The defects the summary links to, as recorded in suite/bugs_found.py "
             "(the published matrix runs each repro again).</p><ul class=\"bugs\">"]
    for b in chosen:
        where = f"<a href=\"{escape(b.link)}\">public report</a>" if b.link else "no public report found"
        parts.append(f"<li id=\"bug-{escape(b.key)}\"><b>{escape(b.title)}</b><br><small>found by {escape(b.found_by)}; "
                     f"seen with {escape(b.seen_with)}; {where}</small><pre>{escape(b.code)}</pre></li>")
    return "\n".join(parts + ["</ul>"])


def bugs_static_markdown(keys: list[str]) -> list[str]:
    """The defects the grid links to, as recorded, each under its anchor."""
    from suite.bugs_found import BUGS

    chosen = [b for b in BUGS if b.key in keys]
    if not chosen:
        return []
    lines = ["## Bugs found", "", "The defects the summary links to, as recorded in suite/bugs_found.py (the published matrix runs each repro again).", ""]
    for b in chosen:
        where = f"public report: {b.link}" if b.link else "no public report found"
        lines += [f'<a id="bug-{b.key}"></a>', "", f"### {b.title}", "", f"- found by: {b.found_by}", f"- seen with {b.seen_with}; {where}", ""]
    return lines


def bug_keys(grid: dict) -> list[str]:
    return [key for row in grid["rows"] for cell in row["cells"].values() for key, _ in cell["bugs"]]
