"""Certificate files: schema, Markdown, HTML with plots, the matrix, and atomic writes."""
from __future__ import annotations

import copy
import functools
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from suite import dtypes as dt
from suite import render, render_certificate, render_matrix, reports
from suite.certify import SCHEMA_VERSION, certify

ROOT = Path(__file__).resolve().parent.parent
NAIVE = ROOT / "implementations" / "broken" / "naive_softmax.py"
SOME = ["output_contract", "finite_outputs", "fully_masked_row", "posinf_logit", "error_profile"]


@pytest.fixture(scope="module")
def good():
    return certify("implementations.numpy_reference:softmax", "softmax", dtypes=["float32", "float64"], properties=SOME)


@pytest.fixture(scope="module")
def bad():
    return certify(f"{NAIVE}:softmax", "softmax", dtypes=["float32"], properties=SOME)


def test_schema_top_level(good):
    for key in (
        "schema_version", "target", "op", "backend", "device", "library_versions", "machine", "seed", "profile",
        "policy", "properties", "implementation_defined", "accuracy", "verdict", "certified", "timings",
    ):
        assert key in good, key
    assert good["schema_version"] == SCHEMA_VERSION
    assert good["certified"] and good["verdict"] == "certified"
    assert "numpy" in good["library_versions"] and "hypothesis" in good["library_versions"]
    behaviours = {(b["property"], b["dtype"]) for b in good["implementation_defined"]}
    assert ("fully_masked_row", "float32") in behaviours
    documented = (ROOT / "docs" / "certificate-schema.md").read_text()
    for key in good:
        assert f"`{key}`" in documented, f"{key} is not documented in docs/certificate-schema.md"


def test_json_is_strict(bad, tmp_path):
    reports.write_certificate(bad, tmp_path)
    text = (tmp_path / "certificate.json").read_text()
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    data = json.loads(text)
    assert data["accuracy"]["float32"]["max_ulp"] == "inf"  # the naive softmax overflows to NaN


def test_markdown_and_summary(bad, tmp_path):
    reports.write_certificate(bad, tmp_path)
    md = (tmp_path / "certificate.md").read_text()
    assert "**Verdict: not certified**" in md
    assert "| finite_outputs | FAIL |" in md
    assert "repro: python -c" in md
    table = render_certificate.summary_table(bad)
    assert table.splitlines()[0].split()[:3] == ["property", "status", "worst"]
    assert any(line.startswith("finite_outputs") and "FAIL" in line for line in table.splitlines())


def test_html_has_plots(good, tmp_path):
    reports.write_certificate(good, tmp_path)
    page = (tmp_path / "index.html").read_text()
    assert page.count('<img class="plot"') >= 2
    assert "data:image/png;base64," in page
    assert "Error histograms in ULPs" in page and "Error against logit magnitude" in page
    assert 'id="properties"' in page


def test_a_certificate_awaiting_its_timing_is_written_without_plots_then_with_them(good, tmp_path):
    """At its verdict a certificate whose speed section is pending is written at once, without
    the plots (a second or more of CPU each, beside the workers); written again once timed, over
    two processes, it has them."""
    pending = copy.deepcopy(good)
    pending["speed"] = {"measured": False, "pending": True, "reason": "pending"}
    reports.write_certificate(pending, tmp_path / "a")
    page = (tmp_path / "a" / "index.html").read_text()
    assert '<img class="plot"' not in page and render_certificate.PLOTS_LATER in page and 'id="properties"' in page
    assert json.loads((tmp_path / "a" / "certificate.json").read_text())["verdict"] == good["verdict"]
    matrix = functools.partial(reports.write_matrix, [good], {}, tmp_path / "m")
    reports.write_certificates([(good, tmp_path / "a"), (good, tmp_path / "b"), (good, tmp_path / "c")], jobs=2, also=[matrix])
    for name in "abc":
        assert (tmp_path / name / "index.html").read_text().count('<img class="plot"') >= 2
    assert json.loads((tmp_path / "m" / "matrix.json").read_text())["certificates"][0]["verdict"] == good["verdict"]


def test_html_without_accuracy_data(good):
    cert = copy.deepcopy(good)
    cert["accuracy"] = {}
    cert["speed"] = {"measured": False, "reason": "not measured"}
    for p in cert["properties"]:
        for o in p["dtypes"].values():
            o["stats"] = {}
    page = render_certificate.certificate_html(cert)
    assert "no accuracy data" in page and '<img class="plot"' not in page


def test_stats_from_properties_are_plotted(good):
    cert = copy.deepcopy(good)
    cert["accuracy"] = {}
    cert["properties"][0]["dtypes"]["float32"]["stats"] = {"max_ulp": 1.5, "p99_ulp": 0.5}
    page = render_certificate.certificate_html(cert)
    assert "ULP statistics recorded by the properties" in page


def test_failed_write_keeps_the_earlier_report(good, bad, tmp_path, monkeypatch):
    reports.write_certificate(good, tmp_path / "r")
    before = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}

    synced = []

    def disk_full(fd):
        synced.append(fd)
        if len(synced) == 2:  # the second file of the new report
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(reports.os, "fsync", disk_full)
    with pytest.raises(OSError):
        reports.write_certificate(bad, tmp_path / "r")
    after = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
    assert after == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".softmax-suite-")]


def test_interrupted_replace_leaves_whole_files(good, bad, tmp_path, monkeypatch):
    reports.write_certificate(good, tmp_path / "r")
    real = os.replace
    calls = []

    def replace_once(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace_once)
    with pytest.raises(KeyboardInterrupt):
        reports.write_certificate(bad, tmp_path / "r")
    for name in ("certificate.json", "certificate.md", "index.html"):
        text = (tmp_path / "r" / name).read_text()
        assert text.rstrip().endswith(("}", "</html>", "_")), name  # complete, old or new
    json.loads((tmp_path / "r" / "certificate.json").read_text())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".softmax-suite-")]


def test_matrix(good, bad, tmp_path):
    unavailable = {"torch-cuda": "no CUDA device visible"}
    reports.write_matrix([good, bad], unavailable, tmp_path, {("softmax", good["implementation"]): "x/index.html"})
    md = (tmp_path / "matrix.md").read_text()
    assert good["implementation"] in md and bad["implementation"] in md
    assert "fully_masked_row" in md and "posinf_logit" in md and "NaN" in md
    assert "torch-cuda" in md and "no CUDA device visible" in md
    page = (tmp_path / "matrix.html").read_text()
    assert 'id="grid"' in page and 'class="matrix details"' in page and "unavailable" in page and "x/index.html" in page
    assert md.index("## Summary") < md.index("## Details per op") and "| **torch-cuda** | unavailable: no CUDA device visible |" in md
    data = json.loads((tmp_path / "matrix.json").read_text())
    assert data["unavailable"] == unavailable
    assert {c["verdict"] for c in data["certificates"]} == {"certified", "not certified"}


# --------------------------------------------------------------------------- accuracy figures, grades, n/a

GRADED = ["ulp_accuracy", "low_precision_rounding", "error_profile"]


@pytest.fixture(scope="module")
def graded_good():
    return certify("implementations.numpy_reference:softmax", "softmax", dtypes=["float16", "float32"], properties=GRADED)


@pytest.fixture(scope="module")
def graded_naive():
    """The naive softmax returns NaN for finite logits: the graded properties fail with grade F."""
    return {
        policy: certify(f"{NAIVE}:softmax", "softmax", dtypes=["float16", "float32"], properties=GRADED, policy=policy)
        for policy in ("default", "strict")
    }


def _entry(cert, name):
    return next(p for p in cert["properties"] if p["name"] == name)


def test_graded_failure_decides_the_verdict_only_under_strict(graded_naive):
    default, strict = graded_naive["default"], graded_naive["strict"]
    ulp = _entry(default, "ulp_accuracy")
    assert ulp["status"] == "fail" and ulp["graded"] and not ulp["required"]
    for dtype in ("float16", "float32"):
        o = ulp["dtypes"][dtype]
        assert o["status"] == "fail" and o["grade"] == "F", o
        assert "non-finite where the exact value is finite" in o["message"] and o["repro"].startswith("python -c")
    assert default["certified"], default["reasons"]  # graded, not required: reported, not decisive
    assert not strict["certified"]
    assert any(r.startswith("ulp_accuracy (float16, float32)") for r in strict["reasons"]), strict["reasons"]  # one line per property, every dtype
    assert any(r.startswith("low_precision_rounding (float16)") for r in strict["reasons"]), strict["reasons"]
    md = render_certificate.certificate_markdown(default)
    assert "| ulp_accuracy (not required) | FAIL |" in md and "grade F: out[" in md


def test_error_profile_counts_non_finite_outputs_with_an_example(graded_naive, tmp_path):
    cert = graded_naive["default"]
    acc = cert["accuracy"]["float32"]
    assert acc["nonfinite"] > 0 and acc["max_bound_used"] == "inf" and acc["max_ulp_mixed"] == "inf"  # JSON-safe from the worker
    example = acc["nonfinite_example"]
    assert example["got"] == "nan" and float(example["expected"]) >= 0 and example["x"].startswith("np.array(")
    md = render_certificate.certificate_markdown(cert)
    assert "NaN or inf where the exact value is finite; first at out(" in md
    reports.write_matrix([cert], {}, tmp_path)
    matrix = (tmp_path / "matrix.md").read_text()
    assert "FAIL (float16, float32), grade F" in matrix
    assert "non-finite (float32)" in matrix


def test_grade_and_figure_are_the_same_measure(graded_good, tmp_path):
    ulp = _entry(graded_good, "ulp_accuracy")
    graded = [o["stats"]["max_ulp_mixed.graded"] for o in ulp["dtypes"].values()]
    assert ulp["figure"] == max(graded) and ulp["measure"] == "ULP, shift excused"
    assert all(o["grade"] == "A" for o in ulp["dtypes"].values())
    shown = f"{render.fmt_ulp(max(graded))} ULP, shift excused"
    row = next(r for r in render_certificate.summary_rows(graded_good) if r[0].startswith("ulp_accuracy"))
    assert row[2] == shown
    reports.write_matrix([graded_good], {}, tmp_path)
    matrix = (tmp_path / "matrix.md").read_text()
    assert "| ulp_accuracy | pass, A [1] |" in matrix and f"- [1] ulp_accuracy: pass, grade A (max {shown})" in matrix
    # the error profile's rows rank implementations; the conditioning-dominated plain max ULP is not a row
    assert "| error profile: bound used | max " in matrix and "| error profile: ULP, shift excused | max " in matrix
    assert "error profile: max ULP" not in matrix
    acc = graded_good["accuracy"]["float32"]
    assert acc["max_bound_used"] < 1 and acc["max_ulp_mixed"] < acc["max_ulp"]  # plain: conditioning of x - max


def test_graded_property_that_measures_nothing_reads_n_a(graded_good, tmp_path):
    rounding = _entry(graded_good, "low_precision_rounding")
    assert rounding["status"] == "pass"  # float16 measured
    assert rounding["dtypes"]["float32"]["status"] == "skipped" and rounding["dtypes"]["float32"]["grade"] == ""
    assert "n/a on float32" in render_certificate.property_detail(rounding)
    reports.write_matrix([graded_good], {}, tmp_path)
    assert "low_precision_rounding: pass, grade faithful (max 0.5 ULP); n/a on float32\n" in (tmp_path / "matrix.md").read_text()
    # measured on no dtype at all: n/a with the reason, in the certificate and the matrix
    only32 = copy.deepcopy(graded_good)
    entry = _entry(only32, "low_precision_rounding")
    del entry["dtypes"]["float16"]
    entry["status"], entry["reason"] = "skipped", entry["dtypes"]["float32"]["message"]
    row = next(r for r in render_certificate.summary_rows(only32) if r[0].startswith("low_precision_rounding"))
    assert row[1] == "n/a" and row[3].startswith("n/a: low_precision_rounding is defined for float16, bfloat16 only")
    cell = render_matrix.matrix_data([only32], {})["rows"][("softmax", "low_precision_rounding")][only32["implementation"]]
    assert cell == "n/a (low_precision_rounding is defined for float16, bfloat16 only)"
    assert render_matrix.cell_class(cell) == "skipped"


def test_accuracy_fields_are_documented(graded_good):
    documented = (ROOT / "docs" / "certificate-schema.md").read_text()
    keys = set(graded_good["accuracy"]["float32"]) | set(_entry(graded_good, "ulp_accuracy"))
    keys |= set(_entry(graded_good, "ulp_accuracy")["dtypes"]["float32"])
    for key in keys:
        assert f"`{key}`" in documented, f"{key} is not documented in docs/certificate-schema.md"


def test_headline_names_every_failing_dtype_of_a_property():
    from suite.certify import _headline

    reasons = [("definition", "float16", "out[(0,)]=1.5, but should be 1.0"), ("definition", "bfloat16", "other"), ("finite_outputs", "float32", "nan")]
    assert _headline(reasons) == ["definition (float16, bfloat16): out[(0,)]=1.5, but should be 1.0", "finite_outputs (float32): nan"]
    assert _headline([("loading the implementation failed", None, "")]) == ["loading the implementation failed"]


def test_a_plot_that_cannot_be_drawn_costs_only_that_plot(bad, tmp_path, monkeypatch):
    """matplotlib raised OverflowError on an infinite ULP statistic and no certificate was written:
    now the plot is a note and everything else is there."""

    def overflow(fig, plt):
        plt.close(fig)
        raise OverflowError("cannot convert float infinity to integer")

    # every plot maker turns its figure into an image with png_img
    monkeypatch.setattr(render_certificate, "png_img", overflow)
    monkeypatch.setattr(render_matrix, "png_img", overflow)
    reports.write_certificate(bad, tmp_path)
    page = (tmp_path / "index.html").read_text()
    assert "plot not drawn: OverflowError: cannot convert float infinity to integer" in page
    assert "not certified" in page and 'id="properties"' in page
    assert json.loads((tmp_path / "certificate.json").read_text())["verdict"] == "not certified"
    reports.write_matrix([bad], {}, tmp_path / "matrix")
    assert "plot not drawn: OverflowError" in (tmp_path / "matrix" / "matrix.html").read_text()


def test_an_html_page_that_cannot_be_rendered_keeps_the_verdict(bad, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a rendering bug")

    monkeypatch.setattr(reports, "certificate_html", broken)
    reports.write_certificate(bad, tmp_path)
    page = (tmp_path / "index.html").read_text()
    assert "could not be rendered (RuntimeError: a rendering bug); this is certificate.md" in page and "**Verdict: not certified**" in page
    assert (tmp_path / "certificate.md").exists() and (tmp_path / "certificate.json").exists()
    monkeypatch.setattr(reports, "matrix_html", lambda *args, **kwargs: broken(None))
    reports.write_matrix([bad], {}, tmp_path / "matrix")
    assert "this is matrix.md" in (tmp_path / "matrix" / "matrix.html").read_text()
    assert (tmp_path / "matrix" / "matrix.md").exists() and (tmp_path / "matrix" / "matrix.json").exists()


def test_declared_unsupported_dtypes_are_recorded_not_run(tmp_path):
    from suite.adapter import UsageError

    cert = certify("implementations.numpy_reference:softmax", "softmax", properties=["output_contract"], unsupported_dtypes=["bfloat16"])
    assert cert["unsupported_dtypes"] == ["bfloat16"] and "bfloat16" not in cert["dtypes"] and cert["certified"]
    assert all("bfloat16" not in p["dtypes"] for p in cert["properties"])
    reports.write_certificate(cert, tmp_path)
    assert "(unsupported: bfloat16)" in (tmp_path / "certificate.md").read_text()
    assert "| f16, f32, f64 (unsupported: bf16) |" in render_matrix.matrix_markdown([cert], {})
    with pytest.raises(UsageError, match="unknown dtype 'float8'"):
        certify("implementations.numpy_reference:softmax", "softmax", unsupported_dtypes=["float8"])


def test_a_long_counterexample_is_saved_beside_the_certificate_with_a_short_repro(tmp_path):
    """The repro of a kernel-scale counterexample would be kilobytes of array literal: the arrays
    go to inputs/PROPERTY-DTYPE.npz and the repro loads them (run in the certificate's folder)."""
    import subprocess
    import sys

    target = f"{Path(__file__).resolve().parent / 'targets' / 'bad_targets.py'}:wrong_past_40_classes"
    cert = certify(target, "softmax", dtypes=["float32"], properties=["sums_to_one"], jobs=1, speed=False)
    reports.write_certificate(cert, tmp_path)
    o = next(p for p in cert["properties"] if p["name"] == "sums_to_one")["dtypes"]["float32"]
    assert o["input_file"] == "inputs/sums_to_one-float32.npz" and (tmp_path / o["input_file"]).is_file()
    assert "inputs_npz" not in json.loads((tmp_path / "certificate.json").read_text())["properties"][0]["dtypes"]["float32"]
    assert len(o["repro"]) < 400 and "np.load('inputs/sums_to_one-float32.npz')" in o["repro"]
    code = o["repro"].split('python -c "', 1)[1].rsplit('"', 1)[0]
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert run.returncode == 0, run.stderr
    # The wrong output, reproduced from the file: rows that sum to 1.01, whatever values the counterexample holds.
    total = sum(float(v) for v in re.findall(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:e[-+]?\d+)?", run.stdout))
    rows = round(total / 1.01)
    assert rows >= 1 and abs(total - 1.01 * rows) < 1e-4 * rows, run.stdout
    assert "in the certificate's folder" in "\n".join(render_certificate.failure_reports(cert))


def test_bfloat16_inputs_survive_the_file():
    import base64
    import io

    from suite.runner import inputs_file

    x = np.array([[1.5, -np.inf, 3.0]], dtype=dt.numpy_dtype("bfloat16"))
    blob, read = inputs_file(((x, np.array([2, 0])), {}))
    f = np.load(io.BytesIO(base64.b64decode(blob)))
    assert read(0, x) == "f['arg0'].view(ml_dtypes.bfloat16)" and read(1, np.array([2])) == "f['arg1']"
    assert np.array_equal(f["arg0"].view(dt.numpy_dtype("bfloat16")), x, equal_nan=True)


# --------------------------------------------------------------------------- coverage, suite errors, titles, the grid


def test_a_certificate_says_what_it_covered(graded_good):
    """The coverage section: dtypes, the profile's examples, the size passes, layouts, and the
    outputs measured per logit regime, from the certificate's own records."""
    md = render_certificate.certificate_markdown(graded_good)
    section = md[md.index("## Coverage"):]
    sizes = graded_good["sizes"]
    assert f"kernel-scale passes {', '.join(sizes['passes'])}: {sizes['examples']} examples each" in section
    assert f"profile {graded_good['profile']}, seed {graded_good['seed']}: 25 drawn examples" in section
    moderate = _entry(graded_good, "ulp_accuracy")["dtypes"]["float32"]["stats"]["count_ulp.moderate"]
    assert f"| ulp_accuracy | moderate | " in section and f"{int(moderate):,}" in section
    page = render_certificate.certificate_html(graded_good, plots=False)
    assert 'id="coverage"' in page and 'id="regimes"' in page


def _undecided(cert):
    """``cert`` as the suite reports one it could not decide: a suite error on one (property, dtype)."""
    cert = copy.deepcopy(cert)
    entry = cert["properties"][0]
    entry["dtypes"]["float32"].update(status="suite error", message="suite error KeyError: 'x'\nTraceback (most recent call last): ...")
    entry["status"] = "suite error"
    cert.update(verdict="undecided", certified=False, reasons=[],
                suite_errors=[{"property": entry["name"], "dtype": "float32", "message": entry["dtypes"]["float32"]["message"]}])
    return cert, entry["name"]


def test_a_suite_error_reads_as_undecided_never_as_a_failure(good, tmp_path):
    cert, name = _undecided(good)
    md = render_certificate.certificate_markdown(cert)
    assert "**Verdict: undecided**" in md and "## Could not decide (suite errors)" in md
    assert f"{name} (float32): could not decide (suite error)" in md and "Traceback (most recent call last)" in md
    assert f"| {name} | could not decide (suite error) |" in md and f"| {name} | FAIL" not in md
    page = render_certificate.certificate_html(cert, plots=False)
    assert 'class="verdict-undecided"' in page and 'id="suite-errors"' in page
    reports.write_matrix([cert], {}, tmp_path)
    matrix = (tmp_path / "matrix.md").read_text()
    assert f"| undecided: [{name} (f32): could not decide (suite error)](#softmax) |" in matrix
    assert f"| {name} | could not decide (suite error) (f32) [1] |" in matrix and "| not certified" not in matrix
    assert 'class="suite-error"' in (tmp_path / "matrix.html").read_text()


def test_plot_titles_are_wrapped_to_fit_their_figure():
    plt = render.load_matplotlib()
    fig, ax = plt.subplots(figsize=(3.6, 2.9))
    fig.suptitle("numpy-reference softmax: speed against a memory copy, a title wider than its figure", fontsize=10, y=1.0)
    ax.set_title("float32")
    assert render.fit_titles(fig)
    fig.tight_layout()
    renderer = fig.canvas.get_renderer()
    box = fig._suptitle.get_window_extent(renderer)
    assert "\n" in fig._suptitle.get_text() and box.x0 >= 0 and box.x1 <= fig.get_figwidth() * fig.dpi
    plt.close(fig)


def test_the_grid_links_a_failure_to_its_bug(good):
    """A library's column not certified for an op links the defects recorded for that library and op."""
    from suite import render_grid
    from suite.bugs_found import BUGS

    cert = copy.deepcopy(good)
    bug = next(b for b in BUGS if b.key == "paddle-softmax-clip-minus-64")
    cert.update(implementation="paddle", target="paddle", certified=False, verdict="not certified",
                reasons=["masked_entries (float32): out[(0,)]=1.6038109389511792e-28, but should be 0.0"])
    _entry(cert, "output_contract")["status"] = "fail"
    cell = render_grid.grid_cell(cert, None)
    assert cell["verdict"] == "not certified" and cell["reason"].startswith("masked_entries (f32): out[(0,)]=1.604e-28")
    assert bug.key in [key for key, _ in cell["bugs"]]
    md = render_matrix.matrix_markdown([cert], {})
    assert f"[bug](#bug-{bug.key})" in md and f'<a id="bug-{bug.key}"></a>' in md
