"""Rendering primitives shared by the certificate, the matrix and the zoo report: HTML escaping,
the page frame and its style, Markdown table cells, plots (matplotlib, optional) as inline PNGs,
and plain number formatting. Nothing here writes a file (suite/reports.py does)."""
from __future__ import annotations

import base64
import html
import io
import math
import textwrap
from typing import Callable

from suite.runner import ERROR, FAIL, IMPL_DEFINED, PASS, SKIP


STATUS_MARK = {PASS: "pass", FAIL: "FAIL", IMPL_DEFINED: "implementation-defined", SKIP: "skipped", ERROR: "could not decide (suite error)"}


# The compact cells of the matrix name dtypes in short; the page's legend spells them out.
DTYPE_ABBREVIATIONS = {"float16": "f16", "bfloat16": "bf16", "float32": "f32", "float64": "f64"}


def short_dtypes(dtypes) -> str:
    return ", ".join(DTYPE_ABBREVIATIONS.get(d, d) for d in dtypes)


def status_class(status: str) -> str:
    """The CSS class of an outcome's status: a suite error has its own, never the failure's."""
    return "suite-error" if status == ERROR else status


# A graded property that measured nothing for a dtype (low_precision_rounding on float32) is not applicable.

NOT_APPLICABLE = "n/a"


LONG_VALUE_CHARS = 400  # longer counterexample values are cut in the readable failure reports


def status_mark(entry: dict) -> str:
    """How a property's status reads: a skipped graded property is n/a, not a pass or a skip."""
    if entry["status"] == SKIP and entry.get("graded"):
        return NOT_APPLICABLE
    return STATUS_MARK.get(entry["status"], entry["status"])


def html_or_fallback(render: Callable[[], str], markdown: str, markdown_name: str, title: str) -> str:
    try:
        return render()
    except Exception as exc:  # noqa: BLE001 - any rendering bug; the Markdown holds the verdict
        note = f"the HTML report could not be rendered ({type(exc).__name__}: {exc}); this is {markdown_name}"
        return html_page(title, f"<p class=\"fail\">{escape(note)}</p><pre>{escape(markdown)}</pre>")


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


def md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


NO_MATPLOTLIB = "plots not drawn: matplotlib is not installed (pip install 'softmax-suite[reports]')"


def load_matplotlib():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        return plt
    except Exception:
        return None


def plots_html(makers: list[Callable], data, empty: str = "no accuracy data") -> list[str]:
    """The figures each of ``makers`` draws from ``data``, as HTML. A maker that raises (matplotlib
    on an infinite statistic, say) costs its own plots, replaced by a note, and nothing else."""
    plots, notes = [], []
    for make in makers:
        try:
            plots += make(data)
        except Exception as exc:  # noqa: BLE001 - matplotlib raises many kinds
            plt = load_matplotlib()
            if plt is not None:
                plt.close("all")
            notes.append(f"plot not drawn: {type(exc).__name__}: {exc}")
    if not plots and not notes and load_matplotlib() is None:
        return [f"<p class=\"unplotted\">{escape(NO_MATPLOTLIB)}</p>"]
    if not plots and not notes:
        return [f"<p class=\"no-accuracy\">{escape(empty)}</p>"]
    parts = [f"<p class=\"unplotted\">{escape(note)}</p>" for note in notes]
    for caption, data_uri in plots:
        parts.append(f"<figure><img class=\"plot\" alt=\"{escape(caption)}\" src=\"data:image/png;base64,{data_uri}\"><figcaption>{escape(caption)}</figcaption></figure>")
    return parts


def png_img(fig, plt) -> str:
    # Laid out once (tight_layout, unless the maker did), not cropped with bbox_inches="tight":
    # that draws every figure a second time, and a run draws a hundred of them. A title wider
    # than the room it has is wrapped first, and the figure laid out again to make room for it.
    wrapped = fit_titles(fig)
    if fig.get_layout_engine() is None or wrapped:
        fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _titles(fig):
    """(text artist, centre x in pixels) of the figure's suptitle and every axes' titles."""
    width = fig.get_figwidth() * fig.dpi
    found = []
    if getattr(fig, "_suptitle", None) is not None:
        found.append((fig._suptitle, width / 2))
    for ax in fig.get_axes():
        box = ax.get_position()
        for title in (ax.title, getattr(ax, "_left_title", None), getattr(ax, "_right_title", None)):
            if title is not None and title.get_text():
                found.append((title, (box.x0 + box.x1) / 2 * width))
    return found


def fit_titles(fig, margin_px: float = 6.0) -> bool:
    """Wrap every title that is wider than the figure leaves it around its centre (a centred
    title clips at both edges otherwise); True when one was wrapped."""
    width = fig.get_figwidth() * fig.dpi
    renderer = fig.canvas.get_renderer()
    wrapped = False
    for text, centre in _titles(fig):
        room = 2 * min(centre, width - centre) - 2 * margin_px
        extent = text.get_window_extent(renderer).width
        if extent <= room or room <= 0:
            continue
        line = text.get_text().replace("\n", " ")
        chars = int(len(line) * room / extent)
        while chars > 12 and text.get_window_extent(renderer).width > room:  # words break short of the estimate
            chars -= 2
            text.set_text(textwrap.fill(line, chars))
        wrapped = True
    return wrapped


def plain_number(v):
    if isinstance(v, str):
        return {"inf": math.inf, "-inf": -math.inf}.get(v, math.nan)
    return math.nan if v is None else float(v)


def edge_label(v: float) -> str:
    if v >= 1024:
        return f"2^{int(round(math.log2(v)))}"
    return f"{v:g}"


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top;font-size:14px}
th{background:#f2f2f2}.pass{background:#e3f5e1}.fail{background:#fbe0e0;font-weight:bold}.implementation-defined{background:#fff5d6}
.skipped{background:#eee;color:#666}.unavailable{background:#eee;color:#666}pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:12px}
.verdict-certified{color:#1a7f37}.verdict-not{color:#b42318}figure{margin:1em 0}figcaption{font-size:13px;color:#555}
td.num{text-align:right}.suite-error{background:#ece4f7;color:#4b2a85}.verdict-undecided{color:#6b3fa0}
pre.suite-error{white-space:pre-wrap}
"""


RENDER_CHECK = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.querySelectorAll('img.plot'));
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var el = document.getElementById('render-check');
  if (el) { el.setAttribute('data-plots-total', imgs.length); el.setAttribute('data-plots-loaded', ok);
            el.textContent = 'plots rendered: ' + ok + '/' + imgs.length; layoutCheck(el); }
});
// The page's own layout, for a browser test: the window's width, the page's (wider: it scrolls
// sideways), the table cells whose content overflows them (clipped), and the summary grid's box.
function layoutCheck(el) {
  var cells = Array.prototype.slice.call(document.querySelectorAll('table td, table th'));
  var clipped = cells.filter(function (c) { return c.offsetParent !== null && c.scrollWidth > c.clientWidth + 1; });
  el.setAttribute('data-viewport-width', window.innerWidth);
  el.setAttribute('data-viewport-height', window.innerHeight);
  el.setAttribute('data-page-width', document.documentElement.scrollWidth);
  el.setAttribute('data-cells', cells.length);
  el.setAttribute('data-clipped', clipped.length);
  el.setAttribute('data-clipped-first', clipped.length ? clipped[0].textContent.slice(0, 80) : '');
  var grid = document.getElementById('grid');
  if (grid) { var r = grid.getBoundingClientRect();
    el.setAttribute('data-grid-box', [r.left, r.top, r.right, r.bottom].map(Math.round).join(',')); }
}
</script>
"""


def escape(text) -> str:
    return html.escape(str(text))


def html_page(title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{escape(title)}</title>"
        f"<style>{CSS}</style></head><body>\n{body}\n"
        f"<p id=\"render-check\" style=\"font-size:11px;color:#999\">plots rendered: pending</p>{RENDER_CHECK}</body></html>\n"
    )
