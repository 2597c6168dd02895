"""softmax-suite matrix: certificates made on several machines or devices merge into one matrix,
a column per implementation (with device and host where it ran on more than one)."""
from __future__ import annotations

import copy
import json

import pytest

from suite import render_matrix, reports
from suite.certify import certify
from suite.cli import main
from suite.merge import find_certificates, newest


@pytest.fixture(scope="module")
def cert():
    return certify("numpy-reference", "logsumexp", dtypes=["float32"], properties=["output_contract", "definition"], jobs=1, speed=False)


def _as_if_from(cert, node, device="cpu", created="2026-12-01T00:00:00+00:00"):
    other = copy.deepcopy(cert)
    other["machine"]["node"] = node
    other["device"] = device
    other["timings"]["created"] = created
    return other


def test_two_machines_give_two_labelled_columns_with_links(cert, tmp_path, capsys):
    reports.write_certificate(_as_if_from(cert, "ci-runner"), tmp_path / "cpu" / "numpy-reference" / "logsumexp")
    reports.write_certificate(_as_if_from(cert, "gpu-box"), tmp_path / "gpu" / "logsumexp")
    (tmp_path / "cpu" / "matrix.json").write_text(json.dumps({"unavailable": {"torch-cuda": "no CUDA device", "numpy-reference": "x"}}))
    assert main(["matrix", str(tmp_path / "cpu"), str(tmp_path / "gpu"), "--report", str(tmp_path / "all")]) == 0
    assert "2 certificates from 2 machine(s) (ci-runner, gpu-box)" in capsys.readouterr().out
    md = (tmp_path / "all" / "matrix.md").read_text()
    assert "numpy-reference (cpu on ci-runner)" in md and "numpy-reference (cpu on gpu-box)" in md
    assert "Certificates from 2 machines" in md
    assert "[certified](../cpu/numpy-reference/logsumexp/index.html)" in md
    assert "| **torch-cuda** | unavailable: no CUDA device |" in md  # unavailable there, and covered nowhere
    assert "unavailable: x" not in md  # covered by a certificate
    # the summary grid: versions and device with each implementation, the verdict linked to its certificate
    assert "| **numpy-reference (cpu on ci-runner)** (references)<br>numpy " in md and "<br>cpu (" in md
    # with its accuracy grade: definition passed, nothing graded finer (docs/error-analysis.md sec. 5.1)
    assert "| **[certified](../cpu/numpy-reference/logsumexp/index.html)**, certified tolerance |" in md


def test_the_published_page_names_no_machine_path(cert, tmp_path, monkeypatch):
    """The published page's command has relative paths only (a folder outside the working
    directory by its name), says how its certificates were made, and anchors each Bugs found
    entry where the grid links."""
    from suite import bugs_found
    from suite.merge import publish, relative_command

    bug = bugs_found.BUGS[0]
    monkeypatch.setattr(bugs_found, "bugs_section", lambda bugs=None: f"## Bugs found\n\n### {bug.title}\n")
    command = f"softmax-suite matrix {tmp_path / 'run-main'} reports/cpu --publish {tmp_path / 'docs' / 'm.md'}"
    publish([cert], {}, tmp_path / "docs" / "m.md", command)
    text = (tmp_path / "docs" / "m.md").read_text()
    assert str(tmp_path) not in text and "/tmp" not in text
    assert "Made with: softmax-suite matrix run-main reports/cpu --publish m.md" in text.splitlines()[0]
    assert "## How this page was made" in text and "softmax-suite run --implementations numpy-reference --profile ci --seed 0" in text
    assert f'<a id="bug-{bug.key}"></a>\n\n### {bug.title}' in text
    assert relative_command("x --report=/abs/out ~/r", base=tmp_path) == "x --report=out r"


def test_one_machine_keeps_plain_columns_and_the_newer_certificate_counts(cert, tmp_path):
    old, new = _as_if_from(cert, "box", created="2026-01-01T00:00:00+00:00"), _as_if_from(cert, "box", created="2026-12-02T00:00:00+00:00")
    new["verdict"] = "not certified"
    reports.write_certificate(old, tmp_path / "a")
    reports.write_certificate(new, tmp_path / "b")
    kept = newest(find_certificates([tmp_path]))
    assert len(kept) == 1 and kept[0][1]["verdict"] == "not certified"
    assert render_matrix.column_label(kept[0][1], [c for _, c in kept]) == "numpy-reference"


def test_bad_paths_are_usage_errors(tmp_path, capsys):
    assert main(["matrix", str(tmp_path / "missing")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["matrix", str(tmp_path / "empty")]) == 2
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "certificate.json").write_text("{}")
    assert main(["matrix", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("softmax-suite: error:") for line in err)
