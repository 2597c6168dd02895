"""Writing reports: certificates (certificate.json, certificate.md, index.html, and the inputs of
long repros) and the conformance matrix (matrix.md, matrix.html, matrix.json, zoo.json), each
file written atomically.

What the documents say is rendered in suite/render_certificate.py and suite/render_matrix.py
(shared pieces in suite/render.py); this module only decides the files and writes them, so a
rendering failure never loses the verdict: JSON and Markdown first, and an HTML page that
cannot be rendered becomes the Markdown with the reason."""
from __future__ import annotations

import functools
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from suite.render import html_or_fallback
from suite.render_certificate import certificate_html, certificate_markdown
from suite.render_matrix import matrix_data, matrix_html, matrix_markdown


DEFAULT_REPORTS = Path("reports")


LONG_REPRO_CHARS = 400  # a longer inline repro becomes one that loads the call's arrays from a file


def write_files(directory: Path, files: dict[str, str | bytes]) -> list[Path]:
    """Write ``files`` (name -> content) into ``directory`` atomically, file by file."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".softmax-suite-", dir=directory.parent if directory.parent.exists() else None))
    written = []
    try:
        for name, content in files.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8") if isinstance(content, str) else content
            with open(path, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for name in files:
            final = directory / name
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, final)
            written.append(final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "target"


def default_certificate_dir(cert: dict) -> Path:
    return DEFAULT_REPORTS / f"{slug(cert['target'])}-{cert['op']}"


def to_json(cert: dict) -> str:
    return json.dumps(_json_safe(cert), indent=2, sort_keys=False) + "\n"


def _json_safe(value):
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    return value


def write_certificate(cert: dict, directory: Path | str | None = None, *, plots: bool | None = None) -> list[Path]:
    """certificate.json, certificate.md and index.html. The verdict is never lost to rendering:
    JSON and Markdown come first, and an HTML page that cannot be rendered becomes the
    Markdown with the reason (a plot that cannot be drawn is already only a note in the page).
    ``plots`` (default: unless the speed section is pending) draws the page's figures: a
    certificate written at its verdict is written again, plots and all, once it is timed."""
    if plots is None:
        plots = not (cert.get("speed") or {}).get("pending", False)
    directory = Path(directory) if directory is not None else default_certificate_dir(cert)
    inputs = save_inputs(cert)
    markdown = certificate_markdown(cert)
    files = {**inputs, "certificate.json": to_json(cert), "certificate.md": markdown}
    files["index.html"] = html_or_fallback(lambda: certificate_html(cert, plots=plots), markdown, "certificate.md", f"softmax-suite: {cert['target']} {cert['op']}")
    return write_files(directory, files)


def write_certificates(certs: list[tuple[dict, Path]], jobs: int = 1, *, also: list[Callable[[], object]] = ()) -> None:
    """``write_certificate(cert, directory)`` for every pair, and each of ``also`` (the matrix, say:
    picklable callables, run first as they are the longest), over ``jobs`` processes: drawing a
    certificate's plots costs a second or more of CPU, and ``softmax-suite run`` writes dozens
    once the timing is done. A pool that cannot start or breaks leaves the rest to this process."""
    pending = list(also) + [functools.partial(write_certificate, cert, directory) for cert, directory in certs]
    if jobs > 1 and len(pending) > 1:
        import concurrent.futures
        import multiprocessing

        try:
            context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
            with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
                futures = {pool.submit(task): i for i, task in enumerate(pending)}
                done = {futures[f] for f in concurrent.futures.as_completed(futures) if f.exception() is None}
            pending = [task for i, task in enumerate(pending) if i not in done]
        except (OSError, concurrent.futures.process.BrokenProcessPool):
            pass
    for task in pending:
        task()


def save_inputs(cert: dict) -> dict[str, bytes]:
    """The arrays of each failure whose inline repro is long, as ``inputs/PROPERTY-DTYPE.npz``
    files beside the certificate; the outcome's ``repro`` becomes the short line that loads its
    file (run it in the certificate's folder) and ``input_file`` names it. Changes ``cert`` in place."""
    import base64

    files = {}
    for p in cert["properties"]:
        for dtype, o in p["dtypes"].items():
            blob, short = o.pop("inputs_npz", ""), o.pop("repro_from_file", "")
            if not blob or len(o.get("repro", "")) <= LONG_REPRO_CHARS:
                continue
            name = f"inputs/{slug(p['name'])}-{dtype}.npz"
            files[name] = base64.b64decode(blob)
            o["input_file"], o["repro"] = name, short.replace("{inputs}", name)
    return files


def write_matrix(
    certs: list[dict], unavailable: dict[str, str], directory: Path | str, links: dict | None = None, zoo: dict | None = None
) -> list[Path]:
    """matrix.md, matrix.html (also index.html) and matrix.json; with ``zoo`` (see :mod:`suite.zoo`)
    also the self-validation section and zoo.json."""
    data = matrix_data(certs, unavailable)
    summary = {
        "schema_version": "1.0",
        "columns": data["columns"],
        "unavailable": unavailable,
        "certificates": [
            {"implementation": c["implementation"], "op": c["op"], "verdict": c["verdict"], "path": (links or {}).get((c["op"], c["implementation"]), "")}
            for c in certs
        ],
        "rows": [{"op": op, "row": name, "cells": cells} for (op, name), cells in data["rows"].items()],
    }
    markdown = matrix_markdown(certs, unavailable, links, zoo)
    page = html_or_fallback(lambda: matrix_html(certs, unavailable, links, zoo), markdown, "matrix.md", "softmax-suite conformance matrix")
    files = {
        "matrix.md": markdown,
        "matrix.html": page,
        "index.html": page,
        "matrix.json": json.dumps(_json_safe(summary), indent=2) + "\n",
    }
    if zoo is not None:
        files["zoo.json"] = json.dumps(_json_safe(zoo), indent=2) + "\n"
    return write_files(Path(directory), files)
