"""Certificate files: schema, Markdown, HTML with plots, the matrix, and atomic writes."""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from suite import reports
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
    table = reports.summary_table(bad)
    assert table.splitlines()[0].split()[:3] == ["property", "status", "worst"]
    assert any(line.startswith("finite_outputs") and "FAIL" in line for line in table.splitlines())


def test_html_has_plots(good, tmp_path):
    reports.write_certificate(good, tmp_path)
    page = (tmp_path / "index.html").read_text()
    assert page.count('<img class="plot"') >= 2
    assert "data:image/png;base64," in page
    assert "Error histograms in ULPs" in page and "Error against logit magnitude" in page
    assert 'id="properties"' in page


def test_html_without_accuracy_data(good):
    cert = copy.deepcopy(good)
    cert["accuracy"] = {}
    for p in cert["properties"]:
        for o in p["dtypes"].values():
            o["stats"] = {}
    page = reports.certificate_html(cert)
    assert "no accuracy data" in page and '<img class="plot"' not in page


def test_stats_from_properties_are_plotted(good):
    cert = copy.deepcopy(good)
    cert["accuracy"] = {}
    cert["properties"][0]["dtypes"]["float32"]["stats"] = {"max_ulp": 1.5, "p99_ulp": 0.5}
    page = reports.certificate_html(cert)
    assert "ULP statistics recorded by the properties" in page


def test_failed_write_keeps_the_earlier_report(good, bad, tmp_path, monkeypatch):
    reports.write_certificate(good, tmp_path / "r")
    before = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}

    def broken(cert, link_back=None):
        raise RuntimeError("disk full")

    monkeypatch.setattr(reports, "certificate_html", broken)
    with pytest.raises(RuntimeError):
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
    assert 'class="matrix"' in page and "unavailable" in page and "x/index.html" in page
    data = json.loads((tmp_path / "matrix.json").read_text())
    assert data["unavailable"] == unavailable
    assert {c["verdict"] for c in data["certificates"]} == {"certified", "not certified"}
