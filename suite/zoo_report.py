"""The self-validation section of the ``softmax-suite run --zoo`` report (see :mod:`suite.zoo`)."""
from __future__ import annotations

from suite.render import escape, load_matplotlib, md_cell, png_img


def headline(zoo: dict) -> list[str]:
    """Three sentences: the kill rate, required properties without a mutant, the false rejections."""
    rows = zoo["mutants"]
    killed = sum(1 for r in rows if r["killed"] and r["expected_seen"])
    rate = f"{100 * zoo['kill_rate']:.0f}%" if zoo["kill_rate"] is not None else "-"
    correct = zoo["correct"]
    without = zoo["required_without_mutant"]
    errors = f" Suite errors on mutants: {zoo['suite_errors']} (each one a bug in a property)." if zoo["suite_errors"] else ""
    return [
        f"Kill rate: {killed}/{len(rows)} mutants ({rate}) rejected with their expected property, "
        f"{zoo['bug_classes']} bug classes (profile {zoo['mutant_profile']}, seed 0).",
        "Required properties without a mutant: " + (", ".join(without) if without else "none") + ".",
        f"False rejections: {zoo['false_rejections']} in {zoo['certifications_of_correct']} certifications of "
        f"{len(correct)} correct implementations ({zoo['seeds']} seeds each, profile {zoo['sweep_profile']})." + errors,
    ]


def _mutant_verdict(row: dict) -> str:
    if row["suite_errors"]:
        return "suite error in " + ", ".join(row["suite_errors"])
    if not row["killed"]:
        return "SURVIVED"
    if not row["expected_seen"]:
        return "killed, but not by " + ", ".join(row["missing"])
    return "killed" + (" (strict policy)" if row["policy"] == "strict" else "")


def _required(zoo: dict) -> set[str]:
    from suite.properties import all_properties

    return {name for name, p in all_properties().items() if p.required and p.opt_in is None}


def zoo_markdown(zoo: dict) -> str:
    required = _required(zoo)
    lines = ["## Self-validation: the zoo", ""] + [f"- {s}" for s in headline(zoo)] + [""]
    lines += ["### Mutants (implementations/broken/)", "", "| mutant | op | backend | dtypes | expected | killed by | verdict |", "|---|---|---|---|---|---|---|"]
    for r in zoo["mutants"]:
        lines.append(
            f"| {r['entry']} | {r['op']} | {r['backend']} | {', '.join(r['dtypes'])} | {', '.join(r['expected'])} | "
            f"{md_cell(', '.join(r['killed_by']) or '-')} | {_mutant_verdict(r)} |"
        )
    lines += ["", "### Mutants per property", "", "| property | required | mutants killed |", "|---|---|---|"]
    for name, killed in zoo["per_property"].items():
        lines.append(f"| {name} | {'yes' if name in required else 'no'} | {len(killed)} |")
    lines += ["", "### Correct implementations (implementations/correct/)", "", "| implementation | op | backend | seeds | false rejections |", "|---|---|---|---|---|"]
    for r in zoo["correct"]:
        false = "; ".join(f"seed {f['seed']}: {f['reasons'][0] if f['reasons'] else '?'}" for f in r["false_rejections"]) or "0"
        lines.append(f"| {r['entry']} | {r['op']} | {r['backend']} | {r['seeds']} | {md_cell(false)} |")
    return "\n".join(lines) + "\n"


def zoo_html(zoo: dict) -> str:
    required = _required(zoo)
    parts = ["<h2 id=\"zoo\">Self-validation: the zoo</h2><ul class=\"zoo-headline\">"]
    parts += [f"<li>{escape(s)}</li>" for s in headline(zoo)] + ["</ul>"]
    plot = _per_property_plot(zoo, required)
    if plot is not None:
        caption, data = plot
        parts.append(f"<figure><img class=\"plot\" alt=\"{escape(caption)}\" src=\"data:image/png;base64,{data}\"><figcaption>{escape(caption)}</figcaption></figure>")
    parts.append("<h3>Mutants (implementations/broken/)</h3><table class=\"zoo\" id=\"zoo-mutants\"><tr>")
    parts += [f"<th>{h}</th>" for h in ("mutant", "op", "backend", "dtypes", "expected", "killed by", "verdict")] + ["</tr>"]
    for r in zoo["mutants"]:
        verdict = _mutant_verdict(r)
        cls = "pass" if verdict.startswith("killed") and r["expected_seen"] else "fail"
        cells = [r["entry"], r["op"], r["backend"], ", ".join(r["dtypes"]), ", ".join(r["expected"]), ", ".join(r["killed_by"]) or "-"]
        parts.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + f"<td class=\"{cls}\">{escape(verdict)}</td></tr>")
    parts.append("</table><h3>Correct implementations (implementations/correct/)</h3><table class=\"zoo\" id=\"zoo-correct\"><tr>")
    parts += [f"<th>{h}</th>" for h in ("implementation", "op", "backend", "seeds", "false rejections")] + ["</tr>"]
    for r in zoo["correct"]:
        false = r["false_rejections"]
        text = "; ".join(f"seed {f['seed']}: {f['reasons'][0] if f['reasons'] else '?'}" for f in false) or "0"
        cells = [r["entry"], r["op"], r["backend"], r["seeds"]]
        parts.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + f"<td class=\"{'fail' if false else 'pass'}\">{escape(text)}</td></tr>")
    parts.append("</table>")
    return "\n".join(parts)


def _per_property_plot(zoo: dict, required: set[str]):
    """A horizontal bar per property: how many mutants it kills (required ones dark)."""
    plt = load_matplotlib()
    if plt is None:
        return None
    names = list(zoo["per_property"])
    counts = [len(zoo["per_property"][n]) for n in names]
    fig, ax = plt.subplots(figsize=(6.5, 0.2 * len(names) + 0.8))
    colours = ["#2b6cb0" if n in required else "#a0aec0" for n in names]
    ax.barh(range(len(names)), counts, color=colours)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels(names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("mutants killed (dark: required property)", fontsize=8)
    ax.grid(True, axis="x", alpha=0.3)
    fig.tight_layout()
    return "mutants killed by each property; a required property at 0 would be one that cannot fail", png_img(fig, plt)
