"""asv: the deterministic ops on every available built-in adapter.

Each backend is synchronised before the clock stops: JAX results are waited
for with block_until_ready, CUDA tensors with torch.cuda.synchronize.
"""
from __future__ import annotations

import numpy as np

from suite.adapter import builtin_adapters
from suite.dtypes import numpy_dtype

SHAPES = ["4096x1024", "32x50257"]


def _sync(adapter, out):
    if adapter.backend == "jax":
        out.block_until_ready()
    elif adapter.device == "cuda":
        import torch

        torch.cuda.synchronize()


class Ops:
    version = 1
    params = (
        [a.name for a in builtin_adapters()],
        ["softmax", "log_softmax", "logsumexp"],
        SHAPES,
        ["float32"],
    )
    param_names = ["implementation", "op", "shape", "dtype"]

    def setup(self, implementation, op, shape, dtype):
        adapters = {a.name: a for a in builtin_adapters()}
        self.adapter = adapters[implementation]
        if not self.adapter.available:
            raise NotImplementedError(self.adapter.unavailable_reason())
        rows, cols = (int(n) for n in shape.split("x"))
        x = np.random.default_rng(0).standard_normal((rows, cols)).astype(numpy_dtype(dtype))
        self.x = self.adapter.from_numpy(x)
        self.fn = self.adapter.ops[op]
        _sync(self.adapter, self.fn(self.x))  # compile (JAX) and warm up

    def time_op(self, implementation, op, shape, dtype):
        _sync(self.adapter, self.fn(self.x))
