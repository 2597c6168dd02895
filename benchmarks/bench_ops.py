"""asv: the softmax-family ops on every built-in adapter.

Parameters: adapter x op x shape x dtype x path (benchmarks/common.py holds the grid).

* adapter: every built-in; unavailable ones (torch-cuda without a GPU) skip, and
  so do adapters on an emulated device (triton-softmax without a GPU runs on
  Triton's interpreter: its times say nothing of the kernel's on a GPU).
* op: softmax, log_softmax, logsumexp, cross_entropy, gumbel_max.
* shape "RxC": R rows of C logits; for gumbel_max, R samples from C categories.
* dtype: float32 at every shape (``OpTime``, ``OpBandwidth``); bfloat16 and
  float16 at 4096x1024 only, cold path only (``...LowPrecision``).
* path "cold": every call allocates a fresh output, as users call the op.
  path "warm": the output is pre-touched: ``out=`` with a buffer the op already
  wrote (where the op takes ``out=``: numba-fused), or, for torch on the CPU,
  glibc's malloc tuned in setup (suite.allocator; asv runs each benchmark in its
  own process) so that a freed output is reused without page faults. Adapters
  that can do neither skip "warm".

Ops an adapter lacks, dtypes it does not support and unavailable adapters raise
NotImplementedError in setup: asv reports them as skipped. The clock stops only
once the result exists: JAX arrays are waited for with block_until_ready, CUDA
with torch.cuda.synchronize.

Cost. ``python -m benchmarks.bench_ops`` counts the instances that run on this
machine. With numpy-reference, scipy, numba-fused, torch-cpu and jax and no
GPU: 128 float32 + 34 low-precision instances of time_op, of track_gbps and of
track_copy_fraction each, and 23 peakmem_op: 509 (bench_suite adds 23). A GPU
adds 30 per class for torch-cuda (and 5 peakmem_op). The Cartesian products hold 930 combinations;
asv's forkserver (asv.conf.json: launch_method) makes the skipped ones cheap
(about 0.05 s each) and, by importing torch, jax and numba once before it
forks (benchmarks/common.py), saves each benchmark process those imports.
"""
from __future__ import annotations

from benchmarks import common
from benchmarks.common import FLOAT32_GRID, GRID_NAMES, LOW_PRECISION_GRID


class OpTime:
    """Seconds per call (asv's median over samples; ``number`` auto-calibrated to 10 ms samples)."""

    version = 1
    params = FLOAT32_GRID
    param_names = GRID_NAMES
    timeout = 180
    rounds = 1
    repeat = (3, 10, 0.3)  # at least 3 samples, at most 10, no more once 0.3 s are spent
    sample_time = 0.01
    warmup_time = 0.0  # setup already made one call

    def setup(self, adapter, op, shape, dtype, path):
        self.case = common.prepare(adapter, op, shape, dtype, path)

    def teardown(self, adapter, op, shape, dtype, path):
        if hasattr(self, "case"):  # asv calls teardown after a skip in setup too
            self.case.close()

    def time_op(self, adapter, op, shape, dtype, path):
        """One call; "cold": a fresh output each call, "warm": a pre-touched output."""
        self.case.run()


class OpTimeLowPrecision(OpTime):
    """OpTime for bfloat16 and float16 logits, at one shape, cold path."""

    params = LOW_PRECISION_GRID


class OpBandwidth:
    """Achieved memory bandwidth: the bytes the op must move (its input read once, its output
    written once: suite.bandwidth.bytes_moved) over the best of a few calls, in GB/s, and as a
    fraction of the speed section's yardstick (suite.timing.measure_against_copy: a copy of the
    same bytes, its output allocated as the op's is, timed in rounds interleaved with the op)."""

    version = 2  # 2: track_copy_fraction against measure_against_copy's yardstick, not a copy timed once per run
    params = FLOAT32_GRID
    param_names = GRID_NAMES
    timeout = 180

    def setup(self, adapter, op, shape, dtype, path):
        self.case = common.prepare(adapter, op, shape, dtype, path)

    def teardown(self, adapter, op, shape, dtype, path):
        if hasattr(self, "case"):
            self.case.close()

    def track_gbps(self, adapter, op, shape, dtype, path):
        """Bytes moved / best time, in GB/s (10^9 bytes per second); bigger is better."""
        return self.case.nbytes / common.best_seconds(self.case.run) / 1e9

    track_gbps.unit = "GB/s"

    def track_copy_fraction(self, adapter, op, shape, dtype, path):
        """The op's best rate over the yardstick copy's best rate, timed side by side on the same
        buffer policy (cold: a fresh output per call; warm: a pre-touched one): 1 is as fast as
        that copy; bigger is better (past 1.05 only with several threads, see copy_verdict)."""
        return common.copy_fraction(self.case)

    track_copy_fraction.unit = "fraction of copy bandwidth"


class OpBandwidthLowPrecision(OpBandwidth):
    """OpBandwidth for bfloat16 and float16 logits, at one shape, cold path."""

    params = LOW_PRECISION_GRID


class OpPeakMemory:
    """Peak resident memory of a process that makes the input and calls the op: the cold path,
    float32, the largest shape (128 MiB of logits), so the op's temporaries show above the imports."""

    version = 1
    params = (common.ADAPTERS, common.OPS, common.PEAKMEM_SHAPES, ["float32"])
    param_names = GRID_NAMES[:4]
    timeout = 180

    def setup(self, adapter, op, shape, dtype):
        self.case = common.prepare(adapter, op, shape, dtype, "cold")

    def peakmem_op(self, adapter, op, shape, dtype):
        self.case.run()


if __name__ == "__main__":  # python -m benchmarks.bench_ops: what a full asv run costs here
    f32, low = common.runnable(FLOAT32_GRID), common.runnable(LOW_PRECISION_GRID)
    peak = common.runnable(OpPeakMemory.params + (["cold"],))
    print(f"time_op: {f32} float32 + {low} low-precision instances run here")
    print(f"track_gbps, track_copy_fraction: {f32} + {low} each")
    print(f"peakmem_op: {peak}")
    print(f"total: {3 * (f32 + low) + peak} benchmark instances")
