"""What a certificate covered, for its coverage section (Markdown and HTML): dtypes, how many
examples each property drew, the kernel-scale size passes, layouts, the logit regimes the
accuracy measurement saw, and the error profile's grid. Every figure comes from the certificate
(its ``sizes``, ``accuracy``, ``timings`` and the outcomes' ``stats``) or from the profile it
names; what the certificate does not record is said to be unrecorded, never estimated."""
from __future__ import annotations

from suite.render import escape, fmt_ulp, md_cell, plain_number
from suite.runner import ERROR, FAIL, IMPL_DEFINED, PASS, SKIP


REGIME_NOTE = "outputs measured in each regime of logits, by each property that records them (its count_*.REGIME statistics)"


def _profile_examples(profile: str) -> int | None:
    from suite.profiles import PROFILES

    return PROFILES.get(profile, {}).get("max_examples")


def _count(cert: dict, *statuses: str) -> int:
    return sum(1 for p in cert["properties"] for o in p["dtypes"].values() if o["status"] in statuses)


def examples_line(cert: dict) -> str:
    """How many examples: the profile's per property and dtype, and what ran, from the outcomes."""
    drawn = [p for p in cert["properties"] if p.get("kind") == "hypothesis" and p["status"] != SKIP]
    probes = [p for p in cert["properties"] if p.get("kind") in ("probe", "fixed") and p["status"] != SKIP]
    base = _profile_examples(cert["profile"])
    said = f"profile {cert['profile']}, seed {cert['seed']}: "
    said += f"{base} drawn examples per property and dtype" if base else "drawn examples per property and dtype"
    recorded = _recorded_examples(cert)
    if recorded:
        said += f"; run, as the outcomes record them: {recorded:,} examples in all (per property below)"
    elif base:
        said += " (a property may scale its count down, to 5 at least; the certificate does not record the count run)"
    outcomes = f"{_count(cert, PASS, FAIL, IMPL_DEFINED, ERROR)} (property, dtype) outcomes decided or observed, {_count(cert, SKIP)} skipped"
    return f"{said}. {len(drawn)} properties on drawn inputs, {len(probes)} on fixed inputs; {outcomes}."


def _recorded_examples(cert: dict) -> int:
    """The examples the outcomes say they ran (an outcome's ``examples``: a count, or a count per pass)."""
    total = 0
    for p in cert["properties"]:
        for o in p["dtypes"].values():
            n = o.get("examples")
            total += sum(n.values()) if isinstance(n, dict) else (n or 0)
    return total


def sizes_line(cert: dict) -> str:
    sizes = cert.get("sizes")
    if not sizes:
        return "not recorded (a certificate from before schema 1.1)"
    passes = ", ".join(sizes.get("passes") or []) or "none"
    line = (
        f"kernel-scale passes {passes}: {sizes.get('examples')} examples each per property and dtype, "
        f"up to {sizes.get('budget'):,} elements per example"
    )
    if sizes.get("widest_passes"):
        from suite.properties import all_properties

        wide = [name for name, p in all_properties().items() if p.widest and name in {q["name"] for q in cert["properties"]}]
        line += f"; the widest, {', '.join(sizes['widest_passes'])}, in {', '.join(wide) or 'no property run here'}"
    pinned = [f"{k} {', '.join(map(str, sizes.get(k) or []))}" for k in ("classes", "rows") if sizes.get(k)]
    return line + ("; pinned " + "; ".join(pinned) if pinned else "; no sizes pinned (--classes, --rows)")


def drawn_sizes_rows(cert: dict) -> list[tuple[str, str, str]]:
    """(property, the examples it ran over every dtype, the kernel-scale rows x classes it drew,
    smallest row first), from the outcomes' ``examples`` and ``sizes`` (a failure stops the count)."""
    rows = []
    for p in cert["properties"]:
        ran = sum(sum((o.get("examples") or {}).values()) for o in p["dtypes"].values())
        drawn = {s for o in p["dtypes"].values() for s in o.get("sizes") or []}
        if ran or drawn:
            ordered = sorted(drawn, key=lambda s: tuple(int(v) for v in s.split("x"))[::-1])
            rows.append((p["name"], f"{ran:,}", ", ".join(ordered) or "-"))
    return rows


def layouts_line(cert: dict) -> str:
    if cert.get("layouts"):
        return ", ".join(cert["layouts"])
    entry = next((p for p in cert["properties"] if p["name"] == "layouts"), None)
    if entry is None:
        return "none recorded: the certificate has no layouts property (selected out, or from before the suite had one)"
    if entry["status"] == SKIP:
        return "the layouts property was skipped" + (f" ({entry['reason']})" if entry.get("reason") else "")
    statement = " ".join(entry.get("statement", "").split())
    said = statement.split(": ", 1)[1].split(". ")[0] if ": " in statement else statement
    return f"every layout the backend expresses, on {', '.join(entry['dtypes'])}: {said}"


def regime_table(cert: dict) -> tuple[list[str], list[list[str]]]:
    """Header and one row per (property, regime): outputs measured, per dtype."""
    from suite.strategies import REGIMES

    counts: dict[tuple[str, str], dict[str, float]] = {}
    for p in cert["properties"]:
        for dtype, o in p["dtypes"].items():
            for key, value in (o.get("stats") or {}).items():
                family, _, regime = key.partition(".")
                if family.startswith("count_") and regime in REGIMES and not family.endswith("_mixed"):
                    counts.setdefault((p["name"], regime), {})[dtype] = value
    dtypes = [d for d in cert["dtypes"] if any(d in c for c in counts.values())]
    header = ["property", "regime"] + dtypes
    rows = [[name, regime] + [f"{int(c[d]):,}" if d in c else "-" for d in dtypes] for (name, regime), c in counts.items()]
    return header, rows


def error_profile_line(cert: dict) -> str:
    parts = []
    for dtype, a in (cert.get("accuracy") or {}).items():
        if "n" not in a:
            continue
        mags = [plain_number(m) for m in a.get("magnitude", [])]
        span = f", max|x| from {fmt_ulp(min(mags))} to {fmt_ulp(max(mags))}" if mags else ""
        parts.append(f"{dtype}: {a['n']:,} outputs over {len(mags)} rows{span}")
    return "; ".join(parts) or "not measured"


def coverage_items(cert: dict) -> list[tuple[str, str]]:
    from suite.render_certificate import dtypes_cell

    time_s = sum((cert.get("timings") or {}).get("units_s", {}).values())
    return [
        ("dtypes", dtypes_cell(cert)),
        ("examples", examples_line(cert)),
        ("sizes", sizes_line(cert)),
        ("layouts", layouts_line(cert)),
        ("error profile grid", error_profile_line(cert)),
        ("time", f"{time_s:.1f} worker-seconds over the properties (shrinking included)"),
    ]


BATTERY_NOTE = (
    "the regime battery (suite/regimes.py): fixed tables of rows, the same at every seed, every output checked "
    "against the oracle within the certified tolerance. Per size class (short: 3 to 64 classes, medium: 65 to "
    "4096, wide: 4097 to the size budget, many: 65537 rows of 3 classes), the rows and outputs checked (the fewest over the dtypes run) and the "
    "power: a defect that affects at least 1 output in N of a (pattern, size class), placed independently of the "
    "table, is caught with probability at least 1 - 1e-6"
)


def battery_table(cert: dict) -> tuple[list[str], list[list[str]]]:
    """Header and one row per (regime, pattern): per size class the rows and outputs checked (the
    fewest over the dtypes, from the outcomes' rows.* and outputs.* statistics) and the power they give."""
    from suite.regimes import SIZE_CLASSES, detectable_fraction

    counts: dict[tuple[str, str], dict[tuple[str, str], float]] = {}
    for p in cert["properties"]:
        for o in p["dtypes"].values():
            if o.get("status") not in (PASS, FAIL):
                continue
            for key, value in (o.get("stats") or {}).items():
                family, _, rest = key.partition(".")
                if family not in ("rows", "outputs"):
                    continue
                regime, _, rest = rest.partition(".")
                pattern, _, size_class = rest.rpartition(".")  # a pattern may hold a dot ("T=0.001")
                cell = counts.setdefault((regime, pattern), {})
                cell[family, size_class] = min(cell.get((family, size_class), value), value)
    header = ["regime", "pattern"] + [f"{c}: rows, outputs, power 1 in N" for c in SIZE_CLASSES]

    def shown(c: dict, size_class: str) -> str:
        if ("outputs", size_class) not in c:
            return "-"
        outputs = int(c["outputs", size_class])
        return f"{int(c.get(('rows', size_class), 0)):,}, {outputs:,}, {1 / detectable_fraction(outputs):,.0f}"

    return header, [[regime, pattern] + [shown(c, k) for k in SIZE_CLASSES] for (regime, pattern), c in counts.items()]


SIZES_NOTE = "the examples each property ran and the kernel-scale sizes (rows x classes) it drew, over every dtype, before any failure"


def coverage_markdown(cert: dict) -> list[str]:
    lines = ["## Coverage", ""] + [f"- **{k}**: {md_cell(v)}" for k, v in coverage_items(cert)] + [""]
    drawn = drawn_sizes_rows(cert)
    if drawn:
        lines += [f"Examples and sizes: {SIZES_NOTE}.", "", "| property | examples | sizes drawn |", "|---|---:|---|"]
        lines += [f"| {name} | {ran} | {md_cell(sizes)} |" for name, ran, sizes in drawn] + [""]
    for title, note, (header, rows) in (("Regimes", REGIME_NOTE, regime_table(cert)), ("Regime battery", BATTERY_NOTE, battery_table(cert))):
        if rows:
            lines += [f"{title}: {note}.", "", "| " + " | ".join(header) + " |", "|---|---|" + "---:|" * (len(header) - 2)]
            lines += ["| " + " | ".join(row) + " |" for row in rows] + [""]
    return lines


def coverage_html(cert: dict) -> str:
    items = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in coverage_items(cert))
    parts = [f"<h2 id=\"coverage\">Coverage</h2><table class=\"coverage\">{items}</table>"]
    drawn = drawn_sizes_rows(cert)
    if drawn:
        parts.append(f"<p>Examples and sizes: {escape(SIZES_NOTE)}.</p><table id=\"sizes-drawn\"><tr><th>property</th><th>examples</th><th>sizes drawn</th></tr>"
                     + "".join(f"<tr><td>{escape(n)}</td><td class=\"num\">{r}</td><td>{escape(v)}</td></tr>" for n, r, v in drawn) + "</table>")
    for title, note, table_id, (header, rows) in (("Regimes", REGIME_NOTE, "regimes", regime_table(cert)),
                                                  ("Regime battery", BATTERY_NOTE, "battery", battery_table(cert))):
        if rows:
            parts.append(f"<p>{title}: {escape(note)}.</p><table id=\"{table_id}\"><tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>")
            parts += ["<tr>" + "".join(f"<td class=\"num\">{escape(c)}</td>" for c in row) + "</tr>" for row in rows]
            parts.append("</table>")
    return "\n".join(parts)
