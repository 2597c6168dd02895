"""One declarative record per op: the contract, and everything the suite needs to test it.

Arrays are the backend's native arrays. Every op keeps the dtype of its
floating-point input.

    softmax(x, axis=-1)                       -> shape of x
    log_softmax(x, axis=-1)                   -> shape of x
    logsumexp(x, axis=-1)                     -> shape of x without axis
    cross_entropy(logits, targets, **options) -> (N,) from (N, K) and integer (N,)
                                                 targets: int32 or int64, any id in [0, K)
                                                 options (each only where the target declares it):
                                                 ignore_index, label_smoothing, weight,
                                                 reduction ("none", "mean", "sum"), z_loss, softcap
    temperature_softmax(x, temperature, axis=-1) -> softmax(x / temperature)
    gumbel_max(logits, num_samples, seed)     -> integer (num_samples,) from (K,)
    gumbel_softmax(logits, tau, num_samples, seed, hard=False) -> (num_samples, K)

Every dispatcher reads these records: suite/cases.py draws each input by its name
(``INPUT_DRAWS``), lays out a case's arguments and checks the output's shape; the oracle,
the bounds and the VJPs are looked up here; the generic properties pick their ops by the
records' fields. A deterministic op's output keeps the dtype of its input (output_contract
checks it for every record); the samplers' outputs are checked by their own properties. Adding an op means writing its
record, its oracle and bound functions, the properties that are its own, and the adapters
that implement it: README "Extending".
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Callable

# How an op's output is shaped (Op.output).
LIKE_INPUT = "like the input"
AXIS_REMOVED = "the input without its axis"
ONE_PER_ROW = "one per row of (N, K)"
SAMPLE_INDICES = "num_samples class ids"
SAMPLE_ROWS = "num_samples rows of K"

# What the generic properties select ops by (Op.traits).
PROBABILITIES = "probabilities"  # each row of the output is a probability distribution
LOG_PROBABILITIES = "log-probabilities"  # each row is the log of one
NORMALISED = "normalised"  # divides by the row's sum: a fully masked row is 0/0, implementation-defined
MOVES_WITH_SHIFT = "moves with a shift"  # f(x + c) = f(x) + c (else f(x + c) = f(x))

# cross_entropy's options, as trainers call it (torch.nn.functional.cross_entropy's keywords, and
# Liger-Kernel's z-loss and soft-capping): their definitions are suite.oracle.cross_entropy's.
CROSS_ENTROPY_OPTIONS = ("ignore_index", "label_smoothing", "weight", "reduction", "z_loss", "softcap")


def _lazy(module: str, name: str) -> Callable:
    """``suite.<module>.<name>``, imported at its first call. The records stay cheap to import:
    the pytest plugin reads them in every pytest session of anyone who installs the suite, and in
    an editable checkout Hypothesis draws from the constants of every suite module imported."""

    def call(*args, **kwargs):
        return getattr(importlib.import_module(f"suite.{module}"), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = f"{module}.{name}"
    return call


@dataclass(frozen=True)
class Op:
    name: str
    signature: str
    summary: str
    # The positional inputs, in order; "x" or "logits" first (the array every property draws),
    # then any of "targets", "temperature", "tau", "num_samples", "seed".
    inputs: tuple[str, ...]
    output: str
    # Whether the op takes ``axis=`` (else it reduces the last axis).
    takes_axis: bool = True
    traits: frozenset[str] = field(default_factory=frozenset)
    # The mathematics, for a deterministic op (None for a sampler, which the statistics test):
    # oracle(*args, **kwargs) the exact result in long double; bound(*args, dtype, **kwargs) the
    # allowed |error| per output element; normwise_bound the same under the normwise model (None:
    # no accuracy grade); vjp(*args, cotangent, **kwargs) the exact VJP w.r.t. args[0] and
    # vjp_bound(*args, cotangent, dtype, **kwargs) its allowance (None: no gradient properties).
    oracle: Callable | None = None
    bound: Callable | None = None
    normwise_bound: Callable | None = None
    vjp: Callable | None = None
    vjp_bound: Callable | None = None
    # Keyword options of the contract that a target may declare it supports (Adapter.options), each
    # off by default: a target that declares none is certified on the plain form. The oracle, bound,
    # vjp and vjp_bound take them as keywords (suite/oracle.py, cross_entropy's docstring).
    options: tuple[str, ...] = ()

    @property
    def sampler(self) -> bool:
        return self.oracle is None

    @property
    def deterministic(self) -> bool:
        return not self.sampler

    def output_shape(self, shape: tuple[int, ...], axis: int = -1) -> tuple[int, ...]:
        """The output's shape for an input (x or logits) of ``shape``, for a deterministic op."""
        if self.output == LIKE_INPUT:
            return tuple(shape)
        if self.output == ONE_PER_ROW:
            return tuple(shape[:1])
        if self.output == AXIS_REMOVED:
            axis = axis % len(shape)
            return tuple(shape[:axis]) + tuple(shape[axis + 1 :])
        raise ValueError(f"{self.name}'s output ({self.output}) has no shape rule for an input shape")

    @property
    def reduces(self) -> bool:
        """True where the output drops the class axis (logsumexp, cross_entropy)."""
        return self.output in (AXIS_REMOVED, ONE_PER_ROW)

    def arguments(self, x, axis: int = -1, **values) -> tuple[tuple, dict]:
        """(args, kwargs) of one call: ``x`` first, then the other inputs from ``values`` by name."""
        args = (x,) + tuple(values[name] for name in self.inputs[1:])
        return args, ({"axis": axis} if self.takes_axis else {})

    def bytes_moved(self, size: int, rows: int, itemsize: int, num_samples: int = 1) -> int:
        """The bytes one call must move (suite.bandwidth): its array inputs read once, its output written once."""
        read = size * itemsize + (rows * 8 if "targets" in self.inputs else 0)  # int64 targets
        written = {
            LIKE_INPUT: size * itemsize,
            AXIS_REMOVED: rows * itemsize,
            ONE_PER_ROW: rows * itemsize,
            SAMPLE_INDICES: rows * num_samples * 8,  # int64 ids
            SAMPLE_ROWS: num_samples * size * itemsize,
        }[self.output]
        return read + written


OPS: dict[str, Op] = {
    op.name: op
    for op in (
        Op(
            "softmax", "softmax(x, axis=-1)", "exp(x) / sum(exp(x)) along axis", ("x",), LIKE_INPUT,
            traits=frozenset({PROBABILITIES, NORMALISED}),
            oracle=_lazy("oracle", "softmax"), bound=_lazy("bounds", "softmax"), normwise_bound=_lazy("bounds", "normwise_softmax"),
            vjp=_lazy("vjp", "softmax"), vjp_bound=_lazy("vjp", "softmax_bound"),
        ),
        Op(
            "log_softmax", "log_softmax(x, axis=-1)", "x - logsumexp(x) along axis", ("x",), LIKE_INPUT,
            traits=frozenset({LOG_PROBABILITIES, NORMALISED}),
            oracle=_lazy("oracle", "log_softmax"), bound=_lazy("bounds", "log_softmax"), normwise_bound=_lazy("bounds", "normwise_log_softmax"),
            vjp=_lazy("vjp", "log_softmax"), vjp_bound=_lazy("vjp", "log_softmax_bound"),
        ),
        Op(
            "logsumexp", "logsumexp(x, axis=-1)", "log(sum(exp(x))) along axis, axis removed", ("x",), AXIS_REMOVED,
            traits=frozenset({MOVES_WITH_SHIFT}),
            oracle=_lazy("oracle", "logsumexp"), bound=_lazy("bounds", "logsumexp"), normwise_bound=_lazy("bounds", "normwise_logsumexp"),
            vjp=_lazy("vjp", "logsumexp"), vjp_bound=_lazy("vjp", "logsumexp_bound"),
        ),
        Op(
            "cross_entropy", "cross_entropy(logits, targets)", "per-row logsumexp(logits) - logits[target], no reduction",
            ("logits", "targets"), ONE_PER_ROW, takes_axis=False,
            traits=frozenset({NORMALISED}),
            oracle=_lazy("oracle", "cross_entropy"), bound=_lazy("bounds", "cross_entropy"), normwise_bound=_lazy("bounds", "normwise_cross_entropy"),
            vjp=_lazy("vjp", "cross_entropy"), vjp_bound=_lazy("vjp", "cross_entropy_bound"),
            options=CROSS_ENTROPY_OPTIONS,
        ),
        Op(
            "temperature_softmax", "temperature_softmax(x, temperature, axis=-1)", "softmax(x / temperature) along axis",
            ("x", "temperature"), LIKE_INPUT,
            traits=frozenset({PROBABILITIES, NORMALISED}),
            oracle=_lazy("oracle", "temperature_softmax"), bound=_lazy("bounds", "temperature_softmax"),
            vjp=_lazy("vjp", "temperature_softmax"), vjp_bound=_lazy("vjp", "temperature_softmax_bound"),
        ),
        Op(
            "gumbel_max", "gumbel_max(logits, num_samples, seed)", "num_samples integer draws from softmax(logits)",
            ("logits", "num_samples", "seed"), SAMPLE_INDICES, takes_axis=False,
        ),
        Op(
            "gumbel_softmax", "gumbel_softmax(logits, tau, num_samples, seed, hard=False)",
            "num_samples relaxed one-hot samples softmax((logits + G) / tau)",
            ("logits", "tau", "num_samples", "seed"), SAMPLE_ROWS, takes_axis=False,
        ),
    )
}


def names(where: Callable[[Op], bool]) -> tuple[str, ...]:
    """The ops whose record satisfies ``where``, in registry order: how a generic property names its ops."""
    return tuple(name for name, op in OPS.items() if where(op))


DETERMINISTIC_OPS = names(lambda op: op.deterministic)
SAMPLER_OPS = names(lambda op: op.sampler)
