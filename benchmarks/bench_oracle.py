"""asv benchmarks: throughput of the extended-precision oracle on 10^6 elements.

The thorough profile draws inputs of up to 10^6 elements; the oracle must not be
the bottleneck there. ``track_*`` report elements per second, ``time_*`` the
time per call, for 1000 rows of 1000 logits (float32 and float64 inputs).
"""
import time

import numpy as np

from suite import oracle

ROWS, CLASSES = 1000, 1000


class OracleThroughput:
    version = 1
    params = (["float32", "float64"], ["softmax", "log_softmax", "logsumexp"])
    param_names = ["dtype", "op"]
    timeout = 120

    def setup(self, dtype, op):
        rng = np.random.default_rng(0)
        self.x = (rng.standard_normal((ROWS, CLASSES)) * 10).astype(dtype)

    def time_oracle(self, dtype, op):
        oracle.evaluate(op, self.x, axis=-1)

    def track_elements_per_second(self, dtype, op):
        start = time.perf_counter()
        oracle.evaluate(op, self.x, axis=-1)
        return self.x.size / (time.perf_counter() - start)

    track_elements_per_second.unit = "elements/s"


class OracleCrossEntropy:
    version = 1

    def setup(self):
        rng = np.random.default_rng(1)
        self.x = (rng.standard_normal((ROWS, CLASSES)) * 10).astype(np.float32)
        self.t = rng.integers(0, CLASSES, ROWS)

    def time_cross_entropy(self):
        oracle.cross_entropy(self.x, self.t)


class OracleOtherAxis:
    """Reduction along the first axis: the oracle makes rows contiguous first."""

    version = 1

    def setup(self):
        self.x = np.random.default_rng(2).uniform(-30, 30, (CLASSES, ROWS)).astype(np.float32)

    def time_softmax_axis0(self):
        oracle.softmax(self.x, axis=0)
