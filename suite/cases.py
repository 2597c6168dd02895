"""One drawn input for a deterministic op, whatever its signature.

softmax, log_softmax and logsumexp take (x, axis); temperature_softmax adds a
temperature; cross_entropy takes (N, K) logits and integer targets, with the
classes on the last axis. A Case hides those differences, reading them from the
op's record (suite/ops.py), so that one property function covers every op it
applies to.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

from suite import strategies as sst
from suite.ops import ONE_PER_ROW, OPS, Op

# The integer dtypes the cross-entropy contract accepts for targets (suite/ops.py).
TARGET_DTYPES = ("int64", "int32")


@dataclass(frozen=True)
class Case:
    op: str
    x: np.ndarray
    axis: int = -1
    targets: np.ndarray | None = None
    temperature: float | None = None

    @property
    def record(self) -> Op:
        return OPS[self.op]

    @property
    def reduces(self) -> bool:
        """True for ops whose output drops the class axis (logsumexp, cross_entropy)."""
        return self.record.reduces

    @property
    def class_axis(self) -> int:
        return self.axis % self.x.ndim

    @classmethod
    def from_call(cls, op: str, args: tuple, kwargs: dict) -> "Case":
        """The case of the call ``op(*args, **kwargs)``: the inverse of :meth:`args`."""
        values = dict(zip(OPS[op].inputs[1:], args[1:]))
        return cls(op, args[0], kwargs.get("axis", -1), values.get("targets"), values.get("temperature"))

    def with_x(self, x: np.ndarray) -> "Case":
        return dataclasses.replace(self, x=x)

    def args(self) -> tuple[tuple, dict]:
        return self.record.arguments(self.x, self.axis, targets=self.targets, temperature=self.temperature)

    def run(self, ctx, **options) -> np.ndarray:
        """The op's output on this case; a wrong shape fails here, whatever the property, since
        no property's arithmetic means anything on an output of the wrong shape."""
        args, kwargs = self.args()
        out = ctx.call(*args, **kwargs, **options)
        if out.shape != self.expected_shape():
            ctx.fail(f"out.shape={out.shape}, but should be {self.expected_shape()} [{ctx.op}(x)]", self.expected_shape(), out.shape)
        return out

    def exact(self) -> np.ndarray:
        args, kwargs = self.args()
        return self.record.oracle(*args, **kwargs)

    def bound(self, dtype: str) -> np.ndarray:
        args, kwargs = self.args()
        return self.record.bound(*args, dtype=dtype, **kwargs)

    def normwise_bound(self, dtype: str) -> np.ndarray:
        args, kwargs = self.args()
        return self.record.normwise_bound(*args, dtype=dtype, **kwargs)

    def expected_shape(self) -> tuple[int, ...]:
        return self.record.output_shape(self.x.shape, self.axis)


def draw_case(
    ctx,
    regimes: tuple[str, ...] = sst.REGIMES,
    min_dims: int = 1,
    max_classes: int = 512,
    last_axis: bool = False,
    max_dims: int = 3,
) -> Case:
    """Draw shape, axis, logits (and targets and their integer dtype, or temperature) for ``ctx.op``, each labelled.

    In a kernel-scale pass (``ctx.sizes``, see suite.sizes) the shape and axis come from that
    pass's menus instead, whatever ``min_dims`` and ``max_classes``: always 2-D, any size."""
    op, record = ctx.op, OPS[ctx.op]
    if ctx.sizes is not None:
        shape, axis = ctx.sizes.shape(ctx.draw, record, last_axis)
    elif record.output == ONE_PER_ROW:
        shape = ctx.draw(sst.shapes(min_dims=2, max_dims=2, max_classes=max_classes), "shape")
        axis = -1
    else:
        shape = ctx.draw(sst.shapes(min_dims=min_dims, max_dims=max_dims, max_classes=max_classes), "shape")
        axis = -1 if last_axis else ctx.draw(sst.axes(shape), "axis")
    regime = ctx.draw(st.sampled_from(regimes), "regime")
    x = ctx.draw(sst.logits(ctx.dtype, shape, regime, axis), "x")
    values = {name: INPUT_DRAWS[name](ctx, x) for name in record.inputs[1:]}
    return Case(op, x, axis, values.get("targets"), values.get("temperature"))


def _draw_targets(ctx, x: np.ndarray) -> np.ndarray:
    """Class ids for the rows of (N, K) logits, in one of the contract's integer dtypes."""
    n, k = x.shape
    # the top class K - 1 on its own: the id a narrow index type or an off-by-one bound gets wrong
    targets = ctx.draw(sst.integer_entries(n, 0, k - 1, also=k - 1), "targets")
    return targets.astype(ctx.draw(st.sampled_from(TARGET_DTYPES), "target dtype"))


def _draw_temperature(ctx, x: np.ndarray) -> float:
    return ctx.draw(sst.temperatures(ctx.dtype, x), "temperature")


# How each input after x is drawn, by its name in the op's record (suite/ops.py), in the record's order.
INPUT_DRAWS = {"targets": _draw_targets, "temperature": _draw_temperature}
