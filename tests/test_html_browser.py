"""Open the HTML reports of `softmax-suite run` in a real headless Chromium and check what renders.

Needs Debian's Chromium: apt-get install -y chromium (skipped with that reason when absent).
"""
from __future__ import annotations

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


def test_matrix_renders_in_chromium(report, tmp_path):
    result = chromium(tmp_path, (report / "index.html").as_uri(), "--dump-dom")
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert 'class="matrix"' in dom and "numpy-reference" in dom and "scipy" in dom
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
