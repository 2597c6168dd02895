"""The ``softmax-suite`` command line.

    softmax-suite run                      certify every available built-in implementation; write reports/
    softmax-suite certify TARGET --op OP   certify one implementation of one op; write a certificate
    softmax-suite bench compare BASE HEAD  fail (exit 1) on asv benchmark regressions between two commits
    softmax-suite bench init TARGET --op OP  asv benchmarks of your own kernel, in your repository

Exit codes: 0 certified (``run``: every certification ran), 1 not certified,
2 usage error (one line on stderr naming the problem and the fix), 3 the suite
could not decide (it raised: a bug of the suite or a missing extra, shown with
its traceback and what to install or report; never blamed on the implementation).
"""
from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

from suite.adapter import UsageError, builtin_adapters
from suite.ops import OPS

EXIT_OK, EXIT_NOT_CERTIFIED, EXIT_USAGE, EXIT_SUITE_ERROR = 0, 1, 2, 3

DESCRIPTION = """\
softmax-suite: a conformance suite for softmax, log_softmax, logsumexp,
cross-entropy, temperature softmax and Gumbel samplers.

Properties (invariants, accuracy against an extended-precision oracle, gradients
on differentiable backends, samplers' statistics) are checked with Hypothesis
and every failure comes with a shrunk counterexample and a one-line repro. The
implementation under test runs in a child process: a crash or hang is a failed
property, never a crashed suite.

Start with:  softmax-suite run
"""

CERTIFY_EPILOG = """\
TARGET is package.module:function or path/to/file.py:function, called as the
op's contract says, on the backend's native arrays (or the name of a built-in
implementation: {builtins}):
{contracts}

exit status: 0 certified, 1 not certified (a required property failed, or the
implementation crashed, hung or raised on valid input), 2 usage error, 3 undecided:
the suite itself raised on some property (a missing extra or a bug of the suite;
the error, its traceback and what to install or report are printed and kept in
the certificate's suite_errors), so it cannot say whether the implementation is
right. A failure elsewhere still decides: not certified, suite errors listed.

examples:
  softmax-suite certify implementations.numpy_reference:softmax --op softmax
  softmax-suite certify implementations/broken/naive_softmax.py:softmax --op softmax
  softmax-suite certify mypkg.ops:fused_softmax --op softmax --backend torch --dtypes float32,bfloat16
  softmax-suite certify torch-cpu --op log_softmax
"""

RUN_EPILOG = """\
built-in implementations: {builtins}

writes, under --report (default reports/):
  matrix.md, matrix.html, index.html, matrix.json   the conformance matrix
  IMPLEMENTATION/OP/certificate.{json,md} and index.html   one certificate each
  zoo.json (with --zoo)   the self-validation figures, also shown in the matrix

exit status: 0 when the matrix and certificates were written (verdicts are in
the matrix; with --check, 1 when any implementation was not certified for an
op, else 3 when the suite could not decide one), 2 usage error, 3 the suite
itself failed (traceback printed; a bug of the suite or a missing extra).
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, no usage dump
        raise UsageError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="softmax-suite", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="store_true", help="print the suite's version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    contracts = "\n".join(f"  {c.signature:<58} {c.summary}" for c in OPS.values())
    builtins = ", ".join(a.name for a in builtin_adapters())
    certify = sub.add_parser(
        "certify",
        help="certify one implementation of one op and write its certificate",
        description="Run every property that applies to OP against TARGET in a child process, then time it there "
        "(the speed section; --no-speed skips it), print a summary table, and write certificate.json, certificate.md "
        "and index.html to --report.",
        epilog=CERTIFY_EPILOG.format(contracts=contracts, builtins=builtins),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    certify.add_argument("target", metavar="TARGET", help="package.module:function or path/to/file.py:function")
    certify.add_argument("--op", required=True, metavar="OP", help="the op TARGET implements: " + ", ".join(OPS))
    _common(certify)
    certify.add_argument("--backend", default="numpy", help="native arrays TARGET takes and returns: numpy, torch or jax (default numpy)")
    certify.add_argument("--device", default="cpu", help="cpu, cuda, or triton-interpret (Triton kernels under Triton's "
                         "interpreter on CPU tensors; cuda and triton-interpret need --backend torch; default cpu)")
    certify.add_argument(
        "--dtypes", default="", help="comma-separated dtypes to try, e.g. float32,float64 (default: every dtype the backend supports)"
    )
    certify.add_argument(
        "--unsupported-dtypes", default="", metavar="DTYPES",
        help="comma-separated dtypes TARGET does not support (e.g. bfloat16): not run, recorded as unsupported in the certificate",
    )
    certify.add_argument(
        "--forward-only", action="store_true",
        help="TARGET has no backward pass (a forward kernel on torch or jax): its gradient properties are skipped "
        "with that reason, not failed",
    )
    certify.add_argument(
        "--properties", default="", help="comma-separated properties to run (default: every property that applies; 'error_profile' is the plots' measurement)"
    )
    certify.add_argument("--report", metavar="DIR", help="where to write the certificate (default reports/TARGET-OP/)")
    certify.add_argument(
        "--huge", action="store_true",
        help="also run huge_indices: arrays past 2**31 and 2**32 elements, where 32-bit indices wrap (needs tens of GiB; "
        "a size that does not fit in free memory is skipped with the reason; default --timeout becomes 3600)",
    )

    run = sub.add_parser(
        "run",
        help="certify every available built-in implementation for every op; write the conformance matrix",
        description="Certify every available built-in implementation (listed below: the suite's own, torch-cuda where a GPU "
        "is visible, and each real library whose extra is installed) for every op it provides, and write one certificate "
        "each plus the conformance matrix (implementations as columns, properties and implementation-defined behaviours as rows).",
        epilog=RUN_EPILOG.replace("{builtins}", builtins),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(run)
    run.add_argument(
        "--implementations", default="", help="comma-separated built-in implementations (listed below; default: every available one)"
    )
    run.add_argument("--ops", default="", help="comma-separated ops (default: every op each implementation provides)")
    run.add_argument("--dtypes", default="", help="comma-separated dtypes (default: all each implementation supports)")
    run.add_argument("--report", metavar="DIR", default="reports", help="output directory (default reports/)")
    run.add_argument(
        "--check", action="store_true",
        help="exit 1 when any implementation is not certified for an op it provides (with --zoo, also when a mutant survives or a correct zoo entry is rejected)",
    )
    run.add_argument(
        "--zoo", action="store_true",
        help="also validate the suite itself: certify every broken implementation in implementations/broken/ (each must be "
        "rejected by the property it names) and every correct one in implementations/correct/ over --zoo-seeds seeds "
        "(none may be rejected); adds the kill rate, mutants per property and false rejections to the report",
    )
    run.add_argument("--publish", metavar="FILE", help="also write the published matrix, e.g. docs/conformance-matrix.md (Markdown, no certificate links) with the Bugs found section, each repro run again")
    run.add_argument("--zoo-seeds", type=int, default=20, metavar="N", help="seeds for each correct zoo implementation (default 20)")
    matrix = sub.add_parser(
        "matrix",
        help="assemble one conformance matrix from certificates made anywhere (other machines, a GPU job)",
        description="Read every certificate.json under PATH... (certify or run reports, copied from any machine) and "
        "write matrix.md, matrix.html and matrix.json: one column per implementation, labelled with its device and "
        "host where the certificates hold it from more than one; of two certificates of the same implementation, op, "
        "device and host the newer counts.",
        epilog="example:\n  softmax-suite run --report reports/cpu                      # on the CPU machine\n"
        "  softmax-suite certify torch-cuda --op softmax --report reports/gpu/softmax   # on the GPU machine\n"
        "  softmax-suite matrix reports/cpu reports/gpu --report reports/all\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    matrix.add_argument("paths", nargs="+", metavar="PATH", help="certificate.json files, or folders searched for them")
    matrix.add_argument("--report", metavar="DIR", default="reports/merged", help="output directory (default reports/merged)")
    matrix.add_argument("--publish", metavar="FILE", help="also write the published matrix (Markdown, no certificate links) with the Bugs found section, each repro run again")
    _bench_parser(sub)
    return parser


BENCH_COMPARE_EPILOG = """\
Plain `asv compare BASE HEAD` prints the same kind of comparison but exits 0
even when it finds regressions, so it cannot fail a CI job; this gate can.

time_, peakmem_ and mem_ benchmarks regress when HEAD/BASE >= FACTOR; track_
benchmarks (GB/s, fraction of copy bandwidth, elements or draws per second:
bigger is better) when BASE/HEAD >= FACTOR. A benchmark that ran at BASE and
failed at HEAD is a regression too; ones skipped at either commit are not compared.

exit status: 0 no regression, 1 regressions (listed with before, after and
ratio), 2 bad input (no results, unknown hash, unreadable config).

example:
  asv run --python=same --set-commit-hash $(git rev-parse HEAD~1)
  asv run --python=same --set-commit-hash $(git rev-parse HEAD)
  softmax-suite bench compare $(git rev-parse HEAD~1) $(git rev-parse HEAD)
"""


BENCH_INIT_EPILOG = """\
writes, into --dir (default: the current directory, your repository's root):
  asv.conf.json                     environment_type "existing" (asv run --python=same),
                                    results under .asv/, your current git branch
  benchmarks/__init__.py            empty
  benchmarks/bench_softmax_suite.py a dozen lines configuring suite.asv_target for TARGET:
                                    time_op (seconds per call, cold and warm paths), track_gbps,
                                    track_copy_fraction and track_speed_vs_baseline (against the
                                    backend's built-in: numpy-reference, torch-cpu, torch-cuda, jax)
Existing files are left alone (exit 2) unless --force.

TARGET is package.module:function (imported from --dir) or path/to/file.py:function
(relative to --dir), so asv benchmarks the checkout it runs in.

exit status: 0 written, 2 usage error (bad op, backend, shape or dtype; a file exists).

example:
  softmax-suite bench init mykernels.ops:softmax --op softmax --backend torch --shapes 4096x1024,32x50257
  asv machine --yes
  asv run --python=same --set-commit-hash $(git rev-parse HEAD)   # at each commit, checked out
  softmax-suite bench compare $(git rev-parse HEAD~1) $(git rev-parse HEAD)
"""


def _bench_parser(sub) -> None:
    bench = sub.add_parser(
        "bench",
        help="performance tracking with asv: set up a kernel's benchmarks, the regression gate",
        description="Set up asv benchmarks of your own kernel (init), and gate on the asv results under "
        "asv.conf.json's results_dir (compare).",
    )
    actions = bench.add_subparsers(dest="bench_command", metavar="ACTION", parser_class=_Parser)
    compare = actions.add_parser(
        "compare",
        help="exit 1 when a benchmark got slower by FACTOR or more between two commits",
        description="Compare the asv results of BASE and HEAD (commit hashes or unique prefixes), pairing "
        "benchmarks by name and parameters, and list every regression.",
        epilog=BENCH_COMPARE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    compare.add_argument("base", metavar="BASE", help="commit hash (or prefix) of the baseline results")
    compare.add_argument("head", metavar="HEAD", help="commit hash (or prefix) of the results to check")
    compare.add_argument("--factor", type=float, default=1.2, help="slowdown ratio that counts as a regression (default 1.2: 20%%)")
    compare.add_argument("--machine", help="asv machine name (default: the most recent machine with results for both commits)")
    compare.add_argument("--config", default="asv.conf.json", help="asv config whose results_dir is read (default asv.conf.json)")
    init = actions.add_parser(
        "init",
        help="write asv.conf.json and benchmarks/ that track TARGET's speed with asv",
        description="Write a small asv setup into your repository that benchmarks TARGET (your implementation of "
        "OP) with the suite's own timing, without copying the suite's benchmark code.",
        epilog=BENCH_INIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    init.add_argument("target", metavar="TARGET", help="package.module:function or path/to/file.py:function")
    init.add_argument("--op", required=True, metavar="OP", help="the op TARGET implements: " + ", ".join(OPS))
    init.add_argument("--backend", default="numpy", help="native arrays TARGET takes and returns: numpy, torch or jax (default numpy)")
    init.add_argument("--device", default="cpu", help="cpu or cuda (cuda needs --backend torch; default cpu)")
    init.add_argument("--shapes", default="", metavar="RxC,RxC", help="comma-separated shapes, R rows of C logits (default 4096x1024,32x50257,1024x32768)")
    init.add_argument("--dtypes", default="", help="comma-separated dtypes (default float32)")
    init.add_argument("--no-baseline", action="store_true", help="no track_speed_vs_baseline (the built-in baseline timed beside TARGET)")
    init.add_argument("--dir", default=".", metavar="DIR", help="the repository root to write into (default: the current directory)")
    init.add_argument("--force", action="store_true", help="overwrite asv.conf.json and benchmarks/ files that exist")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="ci", help="Hypothesis profile: dev, ci, thorough, detect or sweep (see suite/profiles.py; default ci)")
    p.add_argument("--seed", type=int, default=0, help="seed for the examples; same seed and profile give the same verdict (default 0)")
    p.add_argument(
        "--timeout", type=float, default=None, metavar="SECONDS",
        help="limit for one property on one dtype; past it the property fails as a hang (default 180, 1800 with --profile thorough)"
    )
    p.add_argument("--policy", default="default", help="default: required properties must pass; strict: every property must pass")
    p.add_argument("--jobs", type=int, default=0, help="worker processes (default: number of CPUs, at most 4)")
    p.add_argument(
        "--classes", default="", metavar="K,K",
        help="class counts every property also draws (your kernel's dispatch boundaries, e.g. 50257,129920)",
    )
    p.add_argument("--rows", default="", metavar="R,R", help="row counts every property also draws (e.g. 1,4097,65536)")
    p.add_argument(
        "--no-speed", action="store_true",
        help="skip the speed section (after the verdict: median time, GB/s, fraction of a memory copy and speed "
        "against the backend's baseline on 4096x1024, 32x50257, 1024x32768 and the pinned sizes)",
    )
    p.add_argument(
        "--speed-dtypes", default="", metavar="DTYPES",
        help="comma-separated dtypes the speed section times (default: certify times every dtype certified, run float32)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _terminate(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    import signal
    import threading

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)  # stop the workers and write nothing partial
    try:
        return _main(argv)
    except UsageError as exc:
        print(f"softmax-suite: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("softmax-suite: interrupted; no report was written or changed for unfinished work", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the suite's own failure, never a verdict
        from suite.runner import suite_error_message

        print(f"softmax-suite: {suite_error_message(exc)}", file=sys.stderr)
        return EXIT_SUITE_ERROR
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        from suite.certify import suite_versions

        print(f"softmax-suite {suite_versions()['softmax-suite']}")
        return EXIT_OK
    if args.command == "certify":
        return cmd_certify(args)
    if args.command == "run":
        return cmd_run(args)
    if args.command == "bench":
        return cmd_bench(args)
    if args.command == "matrix":
        return cmd_matrix(args)
    parser.print_help()
    return EXIT_USAGE


def _settings(args, speed: bool):
    """The Settings (suite.certify) that the options shared by certify and run ask for."""
    from suite.certify import Settings

    return Settings(
        profile=args.profile, seed=args.seed, timeout=args.timeout, policy=args.policy, jobs=args.jobs or None,
        classes=args.classes, rows=args.rows, speed=speed,
    )


def cmd_certify(args) -> int:
    from suite import render_certificate, reports
    from suite.certify import Progress, certify

    start = time.monotonic()
    cert = certify(
        args.target,
        args.op,
        backend=args.backend,
        device=args.device,
        dtypes=_split(args.dtypes),
        properties=_split(args.properties),
        huge=args.huge,
        unsupported_dtypes=_split(args.unsupported_dtypes),
        speed_dtypes=_split(args.speed_dtypes),
        forward_only=args.forward_only,
        settings=_settings(args, speed=not args.no_speed),
        progress=Progress(quiet=args.quiet),
    )
    directory = Path(args.report) if args.report else reports.default_certificate_dir(cert)
    reports.write_certificate(cert, directory)
    print(render_certificate.summary_table(cert))
    if cert["speed"]["measured"]:
        print()
        print("\n".join(render_certificate.speed_lines(cert)))
    failures = render_certificate.failure_reports(cert, first_per_property=True)
    if failures:
        print()
        print("\n\n".join(failures))
    print()
    from suite.verdict import EXIT_STATUS

    _print_suite_errors(cert["suite_errors"])
    print(f"{cert['target']} {cert['op']}: {cert['verdict'].upper()}" + "".join(" - " + part for part in _verdict_parts(cert)))
    print(f"certificate: {directory / 'certificate.json'} ({time.monotonic() - start:.1f}s)")
    return EXIT_STATUS[cert["verdict"]]


def _print_suite_errors(errors: list[dict]) -> None:
    """Each distinct suite error once, with its traceback and the outcomes it left undecided."""
    by_head: dict[str, list[dict]] = {}
    for error in errors:
        by_head.setdefault(error["message"].split("\n", 1)[0], []).append(error)
    for same in by_head.values():
        where = ", ".join(f"{e['property']} ({e['dtype']})" for e in same)
        print(f"the suite could not decide {where}:\n  " + same[0]["message"].replace("\n", "\n  ") + "\n")


def _verdict_parts(cert: dict) -> list[str]:
    """What follows a verdict on its line: the properties that reject, graded failures that do not
    (e.g. grade F for NaN outputs, under the default policy), and those the suite could not decide."""
    from suite.verdict import rejecting_properties

    failed = rejecting_properties(cert)
    not_required = [p["name"] for p in cert["properties"] if p["status"] == "fail" and p["name"] not in failed]
    parts = []
    if cert["reasons"]:
        parts.append(f"failed: {', '.join(failed)}" if failed else cert["reasons"][0])
    if not_required:
        parts.append(f"not required, failed: {', '.join(not_required)}")
    if cert.get("suite_errors"):
        parts.append(f"the suite could not decide: {', '.join(_undecided(cert))} (suite errors, see above)")
    return parts


def _undecided(cert: dict) -> list[str]:
    """"property (dtype)" of each outcome the suite could not decide, sorted."""
    return sorted({f"{e['property']} ({e['dtype']})" for e in cert.get("suite_errors", [])})


def cmd_matrix(args) -> int:
    from suite.merge import merge

    written, certs = merge(args.paths, args.report)
    if args.publish:
        from suite.merge import publish, unavailable_from

        command = "softmax-suite matrix " + " ".join(args.paths) + f" --publish {args.publish}"
        print(f"published matrix: {publish(certs, unavailable_from(args.paths, certs), args.publish, command)}")
    hosts = sorted({c["machine"].get("node", "") for c in certs})
    print(f"{len(certs)} certificates from {len(hosts)} machine(s) ({', '.join(h or '?' for h in hosts)})")
    print(f"conformance matrix: {Path(args.report) / 'matrix.html'} and {Path(args.report) / 'matrix.md'}")
    return EXIT_OK


def cmd_bench(args) -> int:
    if args.bench_command == "init":
        from suite import bench_init

        lines = bench_init.init(
            args.target, args.op, args.backend, args.device, _split(args.shapes), _split(args.dtypes),
            directory=args.dir, force=args.force, baseline=not args.no_baseline,
        )
        print("\n".join(lines))
        return EXIT_OK
    if args.bench_command != "compare":
        raise UsageError("choose an action: softmax-suite bench init TARGET --op OP, or bench compare BASE HEAD "
                         "(see softmax-suite bench --help)")
    from suite import bench_gate

    comparison = bench_gate.compare(args.base, args.head, args.config, args.machine, args.factor)
    print(bench_gate.report(comparison))
    return EXIT_NOT_CERTIFIED if comparison.regressions else EXIT_OK


def cmd_run(args) -> int:
    from suite import reports
    from suite.adapter import builtin_adapters
    from suite.certify import Progress, builtin_request, certify_many, check_dtypes, check_options, default_jobs

    args.timeout = check_options(args.profile, args.policy, args.timeout)
    start = time.monotonic()
    wanted = set(_split(args.implementations))
    known = [a.name for a in builtin_adapters()]
    for name in wanted:
        if name not in known:
            raise UsageError(f"unknown built-in implementation {name!r}; choose --implementations from: {', '.join(known)}")
    ops = _split(args.ops)
    for op in ops:
        if op not in OPS:
            raise UsageError(f"unknown op {op!r}; choose --ops from: {', '.join(OPS)}")
    dtypes = _split(args.dtypes)
    check_dtypes(dtypes, dtypes, "")  # unknown names only; each implementation keeps the dtypes it supports
    speed_dtypes = tuple(_split(args.speed_dtypes) or ["float32"])
    check_dtypes(speed_dtypes, speed_dtypes, "")
    requests, unavailable = [], {}
    for adapter in builtin_adapters():
        if wanted and adapter.name not in wanted:
            continue
        reason = adapter.unavailable_reason()
        if reason is not None:
            unavailable[adapter.name] = reason
            continue
        for op in adapter.ops:
            if ops and op not in ops:
                continue
            chosen = [d for d in dtypes if d in adapter.dtypes] if dtypes else None
            if dtypes and not chosen:
                continue
            request = builtin_request(adapter.name, op, chosen)
            request.speed_dtypes = speed_dtypes  # an implementation without these times its first dtype
            requests.append(request)
    root = Path(args.report)
    progress = Progress(quiet=args.quiet, only_problems=True)
    for name, reason in unavailable.items():
        progress.note(f"{name}: unavailable - {reason}")
    if not requests:
        raise UsageError("nothing to certify: no selected implementation is available here (see the reasons above)")

    links = {}
    timed = []  # with the speed section: every certificate is final only once all are timed

    def write(cert: dict) -> None:
        rel = Path(reports.slug(cert["implementation"])) / cert["op"]
        links[(cert["op"], cert["implementation"])] = f"{rel.as_posix()}/index.html"
        if cert["speed"].get("measured"):
            timed.append((cert, root / rel))
        else:  # the verdict, kept at once; with a speed section pending, without plots (see below)
            reports.write_certificate(cert, root / rel)

    zoo_entries = _zoo_entries(args)
    settings = _settings(args, speed=not args.no_speed)
    certs = certify_many(requests, settings, progress=progress, on_certificate=write)
    # Written again with the speed section and the plots, the CPUs shared out (nothing is timed
    # now); the matrix beside them, unless it waits for the zoo.
    matrix = functools.partial(reports.write_matrix, certs, unavailable, root, links)
    reports.write_certificates(timed, settings.jobs or default_jobs(), also=[matrix] if zoo_entries is None else [])
    zoo = None
    if zoo_entries is not None:
        from suite.zoo import evaluate

        progress.note(f"self-validation: {len(zoo_entries)} zoo entries, correct ones over {args.zoo_seeds} seeds")
        zoo = evaluate(zoo_entries, args.zoo_seeds, args.jobs or None, progress, args.timeout)
        matrix(zoo)
    if args.publish:
        from suite.merge import publish

        print(f"published matrix: {publish(certs, unavailable, args.publish)}")
    width = max(len(c["implementation"]) for c in certs)
    for c in certs:
        line = f"{c['implementation']:<{width}}  {c['op']:<20} {c['verdict']}"
        if c["reasons"]:
            line += " - " + "; ".join(c["reasons"][:2])
        if c.get("suite_errors"):
            line += " - the suite could not decide: " + ", ".join(_undecided(c)[:3])
        print(line)
    for name, reason in unavailable.items():
        print(f"{name:<{width}}  {'(all ops)':<20} unavailable - {reason}")
    zoo_ok = True
    if zoo is not None:
        from suite.zoo_report import headline

        print()
        for sentence in headline(zoo):
            print(sentence)
        for row in zoo["mutants"]:
            if row["suite_errors"]:
                print(f"  mutant {row['entry']} ({row['op']}): suite error in {', '.join(row['suite_errors'])}")
            elif not (row["killed"] and row["expected_seen"]):
                print(f"  mutant {row['entry']} ({row['op']}): " + ("survived" if not row["killed"] else f"not killed by {', '.join(row['missing'])}"))
        for row in zoo["correct"]:
            for false in row["false_rejections"]:
                print(f"  correct {row['entry']} ({row['op']}) rejected at seed {false['seed']}: {'; '.join(false['reasons'][:1])}")
        zoo_ok = zoo["kill_rate"] == 1 and not zoo["false_rejections"] and not zoo["required_without_mutant"] and not zoo["suite_errors"]
    print(f"\nconformance matrix: {root / 'matrix.html'} and {root / 'matrix.md'} ({time.monotonic() - start:.0f}s)")
    from suite.verdict import NOT_CERTIFIED, UNDECIDED

    if args.check and not (all(c["verdict"] != NOT_CERTIFIED for c in certs) and zoo_ok):
        return EXIT_NOT_CERTIFIED
    if args.check and any(c["verdict"] == UNDECIDED for c in certs):
        return EXIT_SUITE_ERROR
    return EXIT_OK


def _zoo_entries(args):
    """The zoo to evaluate after the built-ins (None without --zoo); checked before anything runs."""
    if not args.zoo:
        return None
    from suite.zoo import check_seeds, entries

    check_seeds(args.zoo_seeds)
    return entries()


if __name__ == "__main__":
    sys.exit(main())
