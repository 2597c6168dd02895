"""Open the HTML reports of `softmax-suite run` in a real headless Chromium and check what renders.

Needs Debian's Chromium: apt-get install -y chromium (skipped with that reason when absent).
"""
from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and shutil.which("chromium") is None,
    reason="Chromium is not installed (apt-get install -y chromium)",
)


def chromium(tmp_path: Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    exe = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}", "--virtual-time-budget=10000",
    ]
    return subprocess.run([exe, *flags, *extra, url], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    exe = Path(sys.executable).with_name("softmax-suite")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "suite.cli"]
    done = subprocess.run(
        cmd + ["run", "--implementations", "numpy-reference,scipy,torch-cuda", "--ops", "softmax", "--dtypes", "float32,float64", "--report", str(out), "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def plots_loaded(dom: str) -> tuple[int, int]:
    m = re.search(r'id="render-check"[^>]*data-plots-total="(\d+)"[^>]*data-plots-loaded="(\d+)"', dom)
    assert m, "the page's render check did not run"
    return int(m.group(1)), int(m.group(2))


def layout(dom: str) -> dict[str, str]:
    """The page's own layout check (suite.render.RENDER_CHECK): window and page widths, clipped cells, the grid's box."""
    tag = re.search(r'<p id="render-check"[^>]*>', dom)
    assert tag and "data-page-width" in tag.group(), "the page's layout check did not run"
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag.group()))


def test_matrix_renders_in_chromium(report, tmp_path):
    result = chromium(tmp_path, (report / "index.html").as_uri(), "--dump-dom")
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'id="grid"' in dom and 'class="matrix details"' in dom and "numpy-reference" in dom and "scipy" in dom
    assert "fully_masked_row" in dom and "posinf_logit" in dom  # implementation-defined rows
    total, loaded = plots_loaded(dom)
    assert total >= 1 and loaded == total


def test_certificate_page_renders_plots(report, tmp_path):
    page = report / "numpy-reference" / "softmax" / "index.html"
    result = chromium(tmp_path, page.as_uri(), "--dump-dom")
    dom = result.stdout
    assert 'id="properties"' in dom and "certified" in dom
    total, loaded = plots_loaded(dom)
    assert total >= 2 and loaded == total  # histograms per dtype and error vs logit magnitude


def test_screenshot_is_not_blank(report, tmp_path):
    shot = tmp_path / "matrix.png"
    result = chromium(tmp_path, (report / "index.html").as_uri(), f"--screenshot={shot}", "--window-size=1200,1600")
    assert shot.is_file(), result.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a blank page compresses to a few KB


FULL_SIZE = {  # the published matrix's columns, with versions as long as the real ones
    "numpy-reference": "numpy 2.4.6", "jax-workarounds": "jax 0.10.2", "torch-cpu": "torch 2.13.0+cpu", "jax": "jax 0.10.2",
    "tensorflow": "tensorflow 2.21.0", "paddle": "paddlepaddle 3.3.1", "mlx": "mlx 0.32.4", "tinygrad": "tinygrad 0.14.0, clang 15.0.6",
    "scipy": "scipy 1.17.1, numpy 2.4.6", "onnxruntime": "onnxruntime 1.30.0, onnx 1.23.2, ai.onnx opset 26",
    "openvino": "openvino 2026.4.1-22982-e213a147257-releases/2026/4, onnx 1.23.2, ai.onnx opset (ONNX frontend) 26, CPU INFERENCE_PRECISION_HINT f32",
    "numba-fused": "numba 0.68.1, numpy 2.4.6",
}
LONG_REASON = ("definition (float16, bfloat16): out[(0, 1)]=0.244873046875, but should be 0.24472847105479764 (allowed error "
               "0.000122) [ordinary row beside [-inf, -inf, -inf]] and the rest of a long message")
LONG_BEHAVIOUR = "NaN; the ordinary row beside it is wrong: " + LONG_REASON


def full_size_certificates(report: Path) -> list[dict]:
    """The fixture's numpy-reference certificate as every column of the published matrix, for every
    op: every other one not certified with a long reason, one undecided, long behaviours."""
    from suite.ops import OPS

    base = json.loads((report / "numpy-reference" / "softmax" / "certificate.json").read_text())
    certs = []
    for i, (name, versions) in enumerate(FULL_SIZE.items()):
        for j, op in enumerate(OPS):
            c = copy.deepcopy(base)
            c.update(implementation=name, target=name, op=op, implementation_versions=dict(v.split(" ", 1) for v in versions.split(", ")))
            for p in c["properties"]:
                for o in p["dtypes"].values():
                    o["observation"] = LONG_BEHAVIOUR if p["status"] == "implementation-defined" else o.get("observation", "")
            if (i + j) % 2:
                c.update(certified=False, verdict="not certified", reasons=[LONG_REASON, "sums_to_one (float16): 1.01"])
            if (i, j) == (3, 1):
                c.update(certified=False, verdict="undecided", reasons=[],
                         suite_errors=[{"property": "definition", "dtype": "float32", "message": "suite error KeyError: 'x'"}])
            certs.append(c)
    return certs


def test_full_size_matrix_fits_1400_pixels(report, tmp_path):
    """The published matrix's size (12 implementations, 7 ops, two unavailable) at 1400 pixels: no
    sideways scrolling, no clipped cell, and the summary grid starts on the first screen."""
    from suite import reports

    reports.write_matrix(full_size_certificates(report), {"torch-cuda": "no CUDA device visible", "mlx-gpu": "x" * 60}, tmp_path / "m")
    result = chromium(tmp_path, (tmp_path / "m" / "index.html").as_uri(), "--dump-dom", "--window-size=1400,900")
    assert result.returncode == 0, result.stderr[-2000:]
    seen = layout(result.stdout)
    width = int(seen["viewport-width"])
    assert width == 1400, seen
    assert int(seen["page-width"]) <= width, f"the page scrolls sideways: {seen}"
    assert int(seen["clipped"]) == 0, f"clipped cells: {seen}"
    left, top, right, bottom = map(int, seen["grid-box"].split(","))
    assert 0 <= left and right <= width and top < int(seen["viewport-height"]) / 2, seen
    assert "undecided" in result.stdout and "could not decide (suite error)" in result.stdout


def test_full_size_screenshot(report, tmp_path):
    from suite import reports

    reports.write_matrix(full_size_certificates(report), {"torch-cuda": "no CUDA device visible"}, tmp_path / "m")
    shot = tmp_path / "full.png"
    chromium(tmp_path, (tmp_path / "m" / "index.html").as_uri(), f"--screenshot={shot}", "--window-size=1400,900", "--hide-scrollbars")
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("SOFTMAX_SUITE_SCREENSHOTS")
    if keep:
        shutil.copy(shot, Path(keep) / "matrix-full-1400.png")
