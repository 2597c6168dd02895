"""asv: the suite itself: a certification, the oracle, the sampler battery.

* ``Certify.time_certify_numpy_reference_softmax``: wall time of
  ``certify("numpy-reference", "softmax")`` at the ci profile with 2 worker
  processes (what ``softmax-suite certify numpy-reference --op softmax --jobs 2``
  costs); about half a minute on 2 cores, so one sample and a generous timeout.
* ``OracleThroughput``: the extended-precision oracle on 1000 rows of 1000 logits
  (the thorough profile draws inputs of up to 10^6 elements; the oracle must not
  be the bottleneck there): seconds per call, and elements per second.
* ``SamplerThroughput.track_draws_per_second``: draws per second of the
  gumbel_max_distribution check (the five battery vectors at their
  power-derived sample sizes: draws, counts, chi-square) on numpy-reference.

Under SOFTMAX_SUITE_BENCH_SMOKE=1 everything is shrunk (one property, a few
rows, a few hundred draws) so that tests/test_bench.py can run it in seconds.
"""
from __future__ import annotations

import time

import numpy as np

from benchmarks.common import smoke
from suite import oracle
from suite import statistics as stat


def _oracle_shape() -> tuple[int, int]:
    return (8, 64) if smoke() else (1000, 1000)


class Certify:
    """One certification of the readable reference, end to end (child processes included)."""

    version = 1
    timeout = 900  # about 35 s on a loaded 2-core machine; a hang of the suite shows as a timeout
    number = 1
    repeat = 1
    rounds = 1
    warmup_time = 0.0

    def time_certify_numpy_reference_softmax(self):
        from suite.certify import Progress, certify

        quick = dict(properties=["output_contract"], dtypes=["float32"]) if smoke() else {}
        cert = certify("numpy-reference", "softmax", profile="ci", jobs=2, progress=Progress(quiet=True), **quick)
        if not cert["certified"]:
            raise RuntimeError(f"numpy-reference softmax is not certified: {cert['reasons']}")


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
        oracle.evaluate(op, self.x, axis=-1)

    def track_elements_per_second(self, dtype, op):
        """Elements per second of one oracle call; bigger is better."""
        start = time.perf_counter()
        oracle.evaluate(op, self.x, axis=-1)
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
