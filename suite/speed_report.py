"""The speed section as tables, matrix cells and a chart (rendered into certificates by suite/render_certificate.py and into the matrix by suite/render_matrix.py).

Plain data only: :func:`speed_table` gives a header and rows of strings that the
Markdown, HTML and terminal renderers lay out; :func:`matrix_cells` the matrix's
speed rows of one certificate; :func:`draw_speed` a matplotlib figure.
"""
from __future__ import annotations

HEADER = ["dtype", "shape", "path", "median ms", "spread ms (25-75%)", "GB/s", "copy GB/s", "of copy", "vs baseline", "note"]

LEGEND = (
    "*GB/s*: the bytes the op must move (its input read once, its output written once) over the median "
    "of repeated synchronised calls; *of copy*: the fastest call's rate as a fraction of the fastest copy "
    "of the same bytes, its output allocated as the op's is, timed in the same rounds; above 1.05 it "
    "comes with its reason (several threads with streaming stores pass one thread's copy), and a "
    "fraction marked ? is the yardstick's fault, not the op's; *vs baseline*: the baseline's median time "
    "over this one's, timed in alternating rounds (2.00x is twice as fast). *cold*: a fresh output each "
    "call, as users call it; *warm*: a pre-touched output (out=, or glibc's malloc tuned so that freed "
    "pages are reused)."
)


def fraction_text(row: dict) -> str:
    """ "0.61", or "0.61?" when the yardstick is suspect (copy_suspect)."""
    return f"{row['copy_fraction']:.2f}" + ("?" if row.get("copy_suspect") else "")


def _row_note(row: dict) -> str:
    parts = [row.get("note", "") or (f"warm by {row['warm_by']}" if row.get("warm_by") else ""), row.get("copy_note", "")]
    return "; ".join(p for p in parts if p)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g}"


def speed_table(cert: dict) -> tuple[list[str], list[list[str]], list[str]]:
    """Header, one row per (dtype, shape, path), and notes (the baseline, errors of whole dtypes)."""
    speed = cert.get("speed") or {}
    if not speed.get("measured"):
        return HEADER, [], [speed.get("reason", "not measured")] if speed else []
    rows, notes = [], []
    if speed.get("baseline"):
        notes.append(f"baseline: {speed['baseline']} ({cert['backend']} on {cert['device']}), timed in the same rounds")
    else:
        notes.append("no baseline ratio: this is the backend's own baseline")
    for dtype, entry in speed.get("dtypes", {}).items():
        if "error" in entry:
            notes.append(f"{dtype}: {entry['error']}")
            continue
        if entry.get("note") and entry["note"] not in notes:
            notes.append(entry["note"])
        for r in entry["rows"]:
            if "median_s" not in r:
                rows.append([dtype, r["shape"], r["path"]] + ["-"] * 6 + [r.get("error") or r.get("note", "")])
                continue
            low, high = r["spread_s"]
            rows.append([
                dtype, r["shape"], r["path"], _ms(r["median_s"]), f"{_ms(low)}-{_ms(high)}", f"{r['gbps']:.3g}",
                f"{r['copy_gbps']:.3g}", fraction_text(r),
                f"{r['vs_baseline']:.2f}x" if "vs_baseline" in r else "-", _row_note(r),
            ])
    return HEADER, rows, notes


def matrix_cells(cert: dict) -> dict[str, str]:
    """The matrix's speed rows of one certificate: "speed SHAPE, PATH" -> "4.2 GB/s, 0.19 of copy,
    1.05x baseline" for float32 (or the first dtype timed, named in the cell)."""
    speed = cert.get("speed") or {}
    entries = speed.get("dtypes", {}) if speed.get("measured") else {}
    if not entries:
        return {}
    dtype = "float32" if "float32" in entries else next(iter(entries))
    entry = entries[dtype]
    suffix = "" if dtype == "float32" else f" ({dtype})"
    if "error" in entry:
        return {"speed": entry["error"] + suffix}
    cells = {}
    for r in entry["rows"]:
        if "gbps" not in r:
            continue  # a path the implementation cannot take: the certificate says why
        cell = f"{r['gbps']:.3g} GB/s, {fraction_text(r)} of copy"
        if r.get("copy_note"):
            cell += " (yardstick suspect)" if r.get("copy_suspect") else " (several threads)"
        if "vs_baseline" in r:
            cell += f", {r['vs_baseline']:.2f}x baseline"
        cells[f"speed {r['shape']}, {r['path']}"] = cell + suffix
    return cells


def draw_speed(cert: dict, plt):
    """Bars of GB/s per shape (cold and warm) with the copy bandwidth as a marker, one panel per
    dtype; None when nothing was timed."""
    speed = cert.get("speed") or {}
    entries = {d: e for d, e in speed.get("dtypes", {}).items() if any("gbps" in r for r in e.get("rows", []))}
    if not entries:
        return None
    fig, axes = plt.subplots(1, len(entries), figsize=(3.6 * len(entries), 2.9), squeeze=False, sharey=True)
    for ax, (dtype, entry) in zip(axes[0], entries.items()):
        shapes = list(dict.fromkeys(r["shape"] for r in entry["rows"]))
        for offset, path in ((-0.2, "cold"), (0.2, "warm")):
            timed = {r["shape"]: r for r in entry["rows"] if r["path"] == path and "gbps" in r}
            xs = [i + offset for i, s in enumerate(shapes) if s in timed]
            ax.bar(xs, [timed[s]["gbps"] for s in shapes if s in timed], width=0.38, label=path)
            ax.plot(xs, [timed[s]["copy_gbps"] for s in shapes if s in timed], "k_", markersize=14, label="copy" if path == "cold" else None)
        ax.set_xticks(range(len(shapes)))
        ax.set_xticklabels(shapes, fontsize=7, rotation=20)
        ax.set_title(dtype, fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
    axes[0][0].set_ylabel("GB/s (bytes the op must move)", fontsize=8)
    axes[0][-1].legend(fontsize=7)
    fig.suptitle(f"{cert['implementation']} {cert['op']}: speed against a memory copy", fontsize=10, y=1.0)
    fig.tight_layout()
    return fig


def draw_matrix_speed(certs: list[dict], plt) -> list[tuple[str, object]]:
    """Per op: fraction of a memory copy at each fixed shape (cold, float32 or the first dtype
    timed), one bar per implementation: (op, figure) pairs."""
    by_op: dict[str, dict[str, dict[str, float]]] = {}
    for c in certs:
        entries = (c.get("speed") or {}).get("dtypes", {})
        entry = entries.get("float32") or next(iter(entries.values()), {})
        cold = {r["shape"]: r["copy_fraction"] for r in entry.get("rows", []) if r["path"] == "cold" and "copy_fraction" in r}
        if cold:
            by_op.setdefault(c["op"], {})[c["implementation"]] = cold
    figures = []
    for op, impls in by_op.items():
        shapes = list(dict.fromkeys(s for cold in impls.values() for s in cold))
        fig, ax = plt.subplots(figsize=(1.2 + 1.4 * len(shapes), 2.8))
        width = 0.8 / len(impls)
        for i, (name, cold) in enumerate(impls.items()):
            xs = [j - 0.4 + width * (i + 0.5) for j, s in enumerate(shapes) if s in cold]
            ax.bar(xs, [cold[s] for s in shapes if s in cold], width=width, label=name)
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_xticks(range(len(shapes)))
        ax.set_xticklabels(shapes, fontsize=7)
        ax.set_ylabel("fraction of a memory copy", fontsize=8)
        ax.set_title(f"{op}: speed, cold path", fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=6)
        fig.tight_layout()
        figures.append((op, fig))
    return figures


# --- speed across sizes (certificate["speed"]["sizes"], suite.speed_section.measure_sizes) ------------

MENU_AXES = {"classes": "classes K (rows = budget // K)", "rows": "rows R"}


def sizes_entry(cert: dict) -> dict | None:
    """The certificate's speed across sizes, or None when it has none."""
    speed = cert.get("speed") or {}
    return speed.get("sizes") if speed.get("measured") else None


def sizes_lines(cert: dict) -> list[str]:
    """Plain lines for the Markdown and the terminal: how the sizes were timed, then every cliff
    named with its sizes (or that there is none), or what stopped the timing."""
    entry = sizes_entry(cert)
    if entry is None:
        return []
    if "error" in entry:
        return [f"speed across sizes: {entry['error']}"]
    lines = [
        f"speed across sizes ({entry['dtype']}, {entry['path']} path{', by ' + entry['warm_by'] if entry.get('warm_by') else ''}): "
        f"classes {entry['menus']['classes'][0]['size'] if entry['menus'].get('classes') else '-'} to "
        f"{entry['menus']['classes'][-1]['size'] if entry['menus'].get('classes') else '-'} at {entry['elements']} elements, "
        f"rows {entry['menus']['rows'][0]['size'] if entry['menus'].get('rows') else '-'} to "
        f"{entry['menus']['rows'][-1]['size'] if entry['menus'].get('rows') else '-'} of {entry['row_classes']} classes"
    ]
    if entry.get("note"):
        lines.append(entry["note"])
    from suite.speed_section import cliff_text

    cliffs = entry.get("cliffs", [])
    if not cliffs:
        lines.append(f"no cliff: GB/s never falls by {entry['cliff_drop']:g}x or more from one size to the next")
    lines += [f"cliff: {cliff_text(c)}" for c in cliffs]
    errors = [f"{p['shape']}: {p['error']}" for points in entry["menus"].values() for p in points if "error" in p]
    lines += [f"not timed: {e}" for e in errors]
    return lines


def sizes_table(cert: dict) -> tuple[list[str], list[list[str]]]:
    """Header and rows: menu, size, shape, GB/s, of copy (the plot's figures, for the Markdown)."""
    entry = sizes_entry(cert)
    if entry is None or "menus" not in entry:
        return [], []
    rows = [[menu, str(p["size"]), p["shape"], f"{p['gbps']:.3g}" if "gbps" in p else "-",
             fraction_text(p) if "copy_fraction" in p else "-"] for menu, points in entry["menus"].items() for p in points]
    return ["menu", "size", "shape", "GB/s", "of copy"], rows


def matrix_size_cells(cert: dict) -> dict[str, str]:
    """The matrix's row "speed cliffs": the cliffs of one certificate, or "none"."""
    entry = sizes_entry(cert)
    if entry is None:
        return {}
    if "error" in entry:
        return {"speed cliffs": entry["error"]}
    cliffs = entry.get("cliffs", [])
    text = "; ".join(f"{c['menu']} {c['from']} -> {c['to']}: {c['drop']:.1f}x slower" for c in cliffs) or "none"
    return {"speed cliffs": text}


def _draw_menu(ax, points: list[dict], cliffs: list[dict], label: str | None = None, copy: bool = True) -> None:
    timed = [p for p in points if "gbps" in p]
    line, = ax.plot([p["size"] for p in timed], [p["gbps"] for p in timed], "o-", ms=3, lw=1, label=label)
    if copy:
        ax.plot([p["size"] for p in timed], [p["copy_gbps"] for p in timed], "k--", lw=0.8, label="copy" if label is None else None)
    by_size = {p["size"]: p for p in timed}
    for c in cliffs:
        if c["to"] in by_size:
            ax.plot([c["to"]], [by_size[c["to"]]["gbps"]], "x", color="red", ms=9, mew=2)
            ax.annotate(f"{c['from']}->{c['to']}", (c["to"], by_size[c["to"]]["gbps"]), fontsize=6, color="red",
                        xytext=(3, 6), textcoords="offset points")
    ax.set_xscale("log")
    ax.grid(True, alpha=0.3)


def draw_sizes(cert: dict, plt):
    """GB/s against size, one panel per menu, the copy of the same bytes dashed, cliffs marked with
    a red cross and their sizes; None when nothing was timed."""
    entry = sizes_entry(cert)
    if entry is None or not any("gbps" in p for points in entry.get("menus", {}).values() for p in points):
        return None
    menus = entry["menus"]
    fig, axes = plt.subplots(1, len(menus), figsize=(4.2 * len(menus), 2.9), squeeze=False)
    for ax, (menu, points) in zip(axes[0], menus.items()):
        _draw_menu(ax, points, [c for c in entry.get("cliffs", []) if c["menu"] == menu])
        ax.set_xlabel(MENU_AXES.get(menu, menu), fontsize=8)
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("GB/s (bytes the op must move)", fontsize=8)
    fig.suptitle(f"{cert['implementation']} {cert['op']}: GB/s against size ({entry['dtype']}, {entry['path']})", fontsize=10, y=1.0)
    fig.tight_layout()
    return fig


def draw_matrix_sizes(certs: list[dict], plt) -> list[tuple[str, object]]:
    """Per op: GB/s against size, one line per implementation (column), one panel per menu, cliffs
    marked: (op, figure) pairs."""
    by_op: dict[str, list[dict]] = {}
    for c in certs:
        entry = sizes_entry(c)
        if entry is not None and any("gbps" in p for points in entry.get("menus", {}).values() for p in points):
            by_op.setdefault(c["op"], []).append(c)
    figures = []
    for op, chosen in by_op.items():
        menus = list(dict.fromkeys(m for c in chosen for m in sizes_entry(c)["menus"]))
        fig, axes = plt.subplots(1, len(menus), figsize=(4.6 * len(menus), 3.0), squeeze=False)
        for ax, menu in zip(axes[0], menus):
            for c in chosen:
                entry = sizes_entry(c)
                _draw_menu(ax, entry["menus"].get(menu, []), [x for x in entry.get("cliffs", []) if x["menu"] == menu],
                           label=c["implementation"], copy=False)
            ax.set_xlabel(MENU_AXES.get(menu, menu), fontsize=8)
        axes[0][0].set_ylabel("GB/s (bytes the op must move)", fontsize=8)
        axes[0][-1].legend(fontsize=6)
        fig.suptitle(f"{op}: GB/s against size per implementation (cliffs: red crosses)", fontsize=10, y=1.0)
        fig.tight_layout()
        figures.append((op, fig))
    return figures
