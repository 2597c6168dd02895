"""One conformance matrix from certificates made anywhere: ``softmax-suite matrix PATH...``.

Each machine certifies what it has (a CPU CI job with ``softmax-suite run``, a
GPU job with ``softmax-suite certify torch-cuda ...``, a colleague's laptop);
the matrix is assembled from their certificate.json files. A column is an
implementation, labelled with its device and host where the certificates hold
it from more than one (suite.render_matrix.column_label). Where two certificates are
of the same implementation, op, device and host, the newer one counts.
Implementations that a run found unavailable (its matrix.json) are listed
unless some certificate covers them.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from suite.adapter import UsageError


def find_certificates(paths) -> list[tuple[Path, dict]]:
    """Every certificate.json under ``paths`` (files or directories), read."""
    found = []
    for path in map(Path, paths):
        if not path.exists():
            raise UsageError(f"no such file or directory {str(path)!r}; give certificate.json files or the folders that hold them")
        files = [path] if path.is_file() else sorted(path.rglob("certificate.json"))
        for file in files:
            try:
                cert = json.loads(file.read_text())
            except (OSError, ValueError) as exc:
                raise UsageError(f"cannot read {str(file)!r} as a certificate: {exc}") from None
            if not isinstance(cert, dict) or "verdict" not in cert or "properties" not in cert:
                raise UsageError(f"{str(file)!r} is not a softmax-suite certificate (no verdict or properties)")
            found.append((file, _builtin_unsupported(cert)))
    if not found:
        raise UsageError("no certificate.json found under " + ", ".join(map(str, paths)))
    return found


def _builtin_unsupported(cert: dict) -> dict:
    """A built-in's certificate from before the suite recorded what its adapter leaves out (schema
    1.3 without it): the floating dtypes that built-in does not support, from its adapter now."""
    from suite.adapter import builtin_adapters
    from suite.dtypes import FLOAT_DTYPES

    adapters = {a.name: a for a in builtin_adapters()}
    if not cert.get("unsupported_dtypes") and cert.get("target") in adapters:
        cert["unsupported_dtypes"] = [d for d in FLOAT_DTYPES if d not in adapters[cert["target"]].dtypes]
    return cert


def _key(cert: dict) -> tuple:
    return (cert["implementation"], cert["op"], cert.get("device", ""), cert.get("machine", {}).get("node", ""))


def newest(found: list[tuple[Path, dict]]) -> list[tuple[Path, dict]]:
    """One certificate per (implementation, op, device, host): the most recently created."""
    kept: dict[tuple, tuple[Path, dict]] = {}
    for file, cert in found:
        key = _key(cert)
        if key not in kept or cert.get("timings", {}).get("created", "") > kept[key][1].get("timings", {}).get("created", ""):
            kept[key] = (file, cert)
    return list(kept.values())


def unavailable_from(paths, certs: list[dict]) -> dict[str, str]:
    """What the runs under ``paths`` found unavailable (matrix.json), less what some certificate covers."""
    covered = {c["implementation"] for c in certs}
    unavailable: dict[str, str] = {}
    for path in map(Path, paths):
        for file in ([path] if path.name == "matrix.json" else sorted(path.rglob("matrix.json")) if path.is_dir() else []):
            try:
                data = json.loads(file.read_text())
            except (OSError, ValueError):
                continue
            for name, reason in (data.get("unavailable") or {}).items():
                if name not in covered:
                    unavailable.setdefault(name, reason)
    return unavailable


def merge(paths, report: Path | str) -> tuple[list[Path], list[dict]]:
    """Write the merged matrix (matrix.md, matrix.html, index.html, matrix.json) to ``report``;
    each verdict links to its certificate's index.html, relative to ``report``."""
    from suite import render_matrix, reports
    from suite.ops import OPS

    report = Path(report)
    kept = newest(find_certificates(paths))
    order = list(OPS)
    kept.sort(key=lambda fc: (order.index(fc[1]["op"]) if fc[1]["op"] in order else len(order), fc[1]["implementation"]))
    certs = [cert for _, cert in kept]
    links = {}
    for file, cert in kept:
        page = file.parent / "index.html"
        if page.exists():
            links[(cert["op"], render_matrix.column_label(cert, certs))] = Path(os.path.relpath(page.resolve(), report.resolve())).as_posix()
    written = reports.write_matrix(certs, unavailable_from(paths, certs), report, links)
    return written, certs


def relative_command(command: str, base: Path | None = None) -> str:
    """``command`` with every absolute path made relative: to ``base`` (the working directory)
    where it lies under it, else its last component alone (a folder on the author's machine
    means nothing to a reader)."""
    import shlex

    base = (base or Path.cwd()).resolve()
    words = []
    for word in shlex.split(command):
        option, eq, value = word.partition("=") if word.startswith("-") and "=" in word else ("", "", word)
        if os.path.isabs(value) or value.startswith("~"):
            path = Path(value).expanduser()
            try:
                value = path.resolve().relative_to(base).as_posix() or "."
            except ValueError:
                value = path.name or "."
        words.append(option + eq + value)
    return shlex.join(words)


def _anchored(section: str, bugs) -> str:
    """The Bugs found section with an anchor before each entry, where the summary grid links."""
    for bug in bugs:
        section = section.replace(f"### {bug.title}", f'<a id="bug-{bug.key}"></a>\n\n### {bug.title}', 1)
    return section


def publish(certs: list[dict], unavailable: dict[str, str], path: Path | str, command: str = "") -> Path:
    """The published matrix (docs/conformance-matrix.md): the matrix in Markdown without links to
    certificates (they stay on the machine that made them), then "Bugs found", each repro run
    again. The command that made it is written with relative paths only."""
    from suite import render_matrix, reports
    from suite.bugs_found import BUGS, bugs_section

    path = Path(path)
    command = relative_command(command or f"softmax-suite run --report reports/published --publish {path.as_posix()}")
    header = f"<!-- Generated by softmax-suite; do not edit. Made with: {command} -->\n\n"
    body = render_matrix.matrix_markdown(certs, unavailable, command=command, bugs=False)
    text = header + body + "\n" + _anchored(bugs_section(), BUGS) + "\n"
    return reports.write_files(path.parent, {path.name: text})[0]
