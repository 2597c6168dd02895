"""asv: the suite itself: a certification, the oracle, the sampler battery.

* ``Certify.time_certify_numpy_reference_softmax``: wall time of
  ``certify("numpy-reference", "softmax")`` at the ci profile with 2 worker
  processes, the verdict without the speed section (what ``softmax-suite certify
  numpy-reference --op softmax --jobs 2 --no-speed`` costs); about half a minute
  on 2 cores, so one sample and a generous timeout.
* ``Certify.time_run_every_builtin``: wall time of ``softmax-suite run`` over every
  available built-in at the ci profile with 2 worker processes, the speed section
  included (what a user's first ``softmax-suite run`` costs, minus the imports);
  issue 15's target is 5 minutes on 2 cores. Certificates go to a temporary folder.
* ``OracleThroughput``: the extended-precision oracle on 1000 rows of 1000 logits
  (the thorough profile draws inputs of up to 10^6 elements; the oracle must not
  be the bottleneck there): seconds per call, and elements per second.
* ``OracleAtKernelScale``: issue 12's target for the oracle, on one (8, 262144)
  float32 array (rows of 262144 classes): the oracle's softmax, the oracle plus
  ``bounds.softmax`` and ``bounds.normwise_softmax`` (what a definition and a
  normwise check cost per input), and a plain NumPy float64 softmax of the same
  array as the yardstick. Tracked: elements per second of the oracle and of
  oracle + bounds (target: 10^7), and their speed as a fraction of the NumPy
  softmax's, both timed in the same call (the issue's ratio, oracle + bounds
  time over NumPy time, is the reciprocal; asv and the gate read every track_
  as bigger is better).
* ``SamplerThroughput.track_draws_per_second``: draws per second of the
  gumbel_max_distribution check (the five battery vectors at their
  power-derived sample sizes: draws, counts, chi-square) on numpy-reference.

Under SOFTMAX_SUITE_BENCH_SMOKE=1 everything is shrunk (one property, a few
rows, a few hundred draws) so that tests/test_bench.py can run it in seconds.
"""
from __future__ import annotations

import time

import numpy as np

from benchmarks import common
from benchmarks.common import smoke
from suite import bounds, oracle
from suite import statistics as stat
from suite.ops import OPS


def _oracle_shape() -> tuple[int, int]:
    return (8, 64) if smoke() else (1000, 1000)


class Certify:
    """One certification of the readable reference, end to end (child processes included)."""

    version = 1
    timeout = 2400  # the run: 20 minutes on a 2-core machine before issue 15; a hang of the suite shows as a timeout
    number = 1
    repeat = 1
    rounds = 1
    warmup_time = 0.0

    def time_certify_numpy_reference_softmax(self):
        from suite.certify import Progress, certify

        quick = dict(properties=["output_contract"], dtypes=["float32"]) if smoke() else {}
        cert = certify("numpy-reference", "softmax", profile="ci", jobs=2, progress=Progress(quiet=True), speed=False, **quick)
        if not cert["certified"]:
            raise RuntimeError(f"numpy-reference softmax is not certified: {cert['reasons']}")

    def time_run_every_builtin(self):
        import tempfile

        from suite.cli import main

        quick = ["--implementations", "numpy-reference", "--ops", "softmax", "--dtypes", "float32", "--no-speed"] if smoke() else []
        with tempfile.TemporaryDirectory(prefix="softmax-suite-bench-") as report:
            status = main(["run", "--profile", "ci", "--jobs", "2", "--quiet", "--report", report, *quick])
        if status not in (0, 1):  # 1: some built-in is not certified, which is the matrix's news, not the benchmark's
            raise RuntimeError(f"softmax-suite run exited {status}")


class OracleThroughput:
    """The oracle on a batch of logits (standard deviation 10), float32 and float64 inputs."""

    version = 1
    params = (["float32", "float64"], ["softmax", "log_softmax", "logsumexp"])
    param_names = ["dtype", "op"]
    timeout = 120
    rounds = 1
    repeat = (3, 5, 2.0)
    warmup_time = 0.0

    def setup(self, dtype, op):
        self.x = (np.random.default_rng(0).standard_normal(_oracle_shape()) * 10).astype(dtype)

    def time_oracle(self, dtype, op):
        OPS[op].oracle(self.x, axis=-1)

    def track_elements_per_second(self, dtype, op):
        """Elements per second of one oracle call; bigger is better."""
        start = time.perf_counter()
        OPS[op].oracle(self.x, axis=-1)
        return self.x.size / (time.perf_counter() - start)

    track_elements_per_second.unit = "elements/s"


class OracleCrossEntropy:
    version = 1
    timeout = 120
    rounds = 1
    repeat = (3, 5, 2.0)
    warmup_time = 0.0

    def setup(self):
        rows, classes = _oracle_shape()
        rng = np.random.default_rng(1)
        self.x = (rng.standard_normal((rows, classes)) * 10).astype(np.float32)
        self.t = rng.integers(0, classes, rows)

    def time_cross_entropy(self):
        oracle.cross_entropy(self.x, self.t)


class OracleOtherAxis:
    """Reduction along the first axis: the oracle makes rows contiguous first."""

    version = 1
    timeout = 120
    rounds = 1
    repeat = (3, 5, 2.0)
    warmup_time = 0.0

    def setup(self):
        rows, classes = _oracle_shape()
        self.x = np.random.default_rng(2).uniform(-30, 30, (classes, rows)).astype(np.float32)

    def time_softmax_axis0(self):
        oracle.softmax(self.x, axis=0)


def _numpy_float64_softmax(x: np.ndarray) -> np.ndarray:
    """The yardstick: softmax in float64 the plain NumPy way (shift, exp, sum, divide)."""
    w = x.astype(np.float64)
    w -= w.max(axis=-1, keepdims=True)
    np.exp(w, out=w)
    w /= w.sum(axis=-1, keepdims=True)
    return w


def _oracle_and_bounds(x: np.ndarray) -> None:
    """What checking one softmax output against the oracle costs: the exact values and both bounds."""
    oracle.softmax(x)
    bounds.softmax(x, dtype="float32")
    bounds.normwise_softmax(x, dtype="float32")


class OracleAtKernelScale:
    """The oracle at kernel scale: (8, 262144) float32 logits (standard deviation 4)."""

    version = 1
    timeout = 300
    rounds = 1
    repeat = (3, 5, 2.0)
    warmup_time = 0.0

    def setup(self):
        self.x = common.logits(common.real_shape("8x262144"), "float32")

    def time_oracle_softmax(self):
        oracle.softmax(self.x)

    def time_oracle_and_bounds(self):
        _oracle_and_bounds(self.x)

    def time_numpy_float64_softmax(self):
        _numpy_float64_softmax(self.x)

    def track_oracle_elements_per_second(self):
        """Elements per second of the oracle's softmax; bigger is better."""
        return self.x.size / common.best_seconds(lambda: oracle.softmax(self.x))

    track_oracle_elements_per_second.unit = "elements/s"

    def track_oracle_and_bounds_elements_per_second(self):
        """Elements per second of oracle + bounds + normwise bound; the target is 10^7."""
        return self.x.size / common.best_seconds(lambda: _oracle_and_bounds(self.x), budget=1.0)

    track_oracle_and_bounds_elements_per_second.unit = "elements/s"

    def _speed_fraction(self, call) -> float:
        """NumPy float64 softmax time / ``call`` time, the fastest of 3 interleaved rounds each,
        so that both see the same machine load."""
        numpy_best = call_best = float("inf")
        for _ in range(1 if smoke() else 3):
            numpy_best = min(numpy_best, common.best_seconds(lambda: _numpy_float64_softmax(self.x)))
            call_best = min(call_best, common.best_seconds(call, min_runs=1))
        return numpy_best / call_best

    def track_oracle_speed_vs_numpy_float64(self):
        """The oracle's speed as a fraction of a NumPy float64 softmax's; bigger is better."""
        return self._speed_fraction(lambda: oracle.softmax(self.x))

    track_oracle_speed_vs_numpy_float64.unit = "fraction of NumPy float64 softmax speed"

    def track_oracle_and_bounds_speed_vs_numpy_float64(self):
        """(NumPy float64 softmax time) / (oracle + bounds time): the reciprocal of issue 12's ratio."""
        return self._speed_fraction(lambda: _oracle_and_bounds(self.x))

    track_oracle_and_bounds_speed_vs_numpy_float64.unit = "fraction of NumPy float64 softmax speed"


class SamplerThroughput:
    """The gumbel_max_distribution battery on numpy-reference, float32 logits."""

    version = 1
    timeout = 300

    def setup(self):
        from suite.properties.samplers import battery_vectors

        self.designs = []
        for name, vector in battery_vectors("gumbel_max").items():
            x = vector.astype(np.float32)
            p = stat.law(x)
            n = 256 if smoke() else stat.required_samples(p)  # the power calculation, outside the clock
            self.designs.append((name, x, p, n))

    def track_draws_per_second(self):
        """Draws per second through draw + count + chi-square; bigger is better."""
        from implementations.numpy_reference import gumbel_max
        from suite.properties.samplers import draw_counts

        draws = 0
        start = time.perf_counter()
        for name, x, p, n in self.designs:
            stat.gof_test(draw_counts(gumbel_max, "gumbel_max", x, n, stat.test_seed(stat.BASE_SEED, name)), p)
            draws += n
        return draws / (time.perf_counter() - start)

    track_draws_per_second.unit = "draws/s"


if __name__ == "__main__":  # python -m benchmarks.bench_suite: the kernel-scale figures, here and now
    bench = OracleAtKernelScale()
    bench.setup()
    oracle_rate = bench.track_oracle_elements_per_second()
    both_rate = bench.track_oracle_and_bounds_elements_per_second()
    oracle_fraction = bench.track_oracle_speed_vs_numpy_float64()
    both_fraction = bench.track_oracle_and_bounds_speed_vs_numpy_float64()
    print(f"{bench.x.shape} float32: oracle {oracle_rate:.3g} elements/s ({1 / oracle_fraction:.2f} x the NumPy float64 softmax's time)")
    print(f"oracle + bounds + normwise: {both_rate:.3g} elements/s ({1 / both_fraction:.2f} x the NumPy float64 softmax's time)")
