"""The op contracts: what a third-party implementation must look like.

Arrays are the backend's native arrays. Every op keeps the dtype of its
floating-point input.

    softmax(x, axis=-1)                       -> shape of x
    log_softmax(x, axis=-1)                   -> shape of x
    logsumexp(x, axis=-1)                     -> shape of x without axis
    cross_entropy(logits, targets)            -> (N,) from (N, K) and integer (N,)
                                                 targets: int32 or int64, any id in [0, K)
    temperature_softmax(x, temperature, axis=-1) -> softmax(x / temperature)
    gumbel_max(logits, num_samples, seed)     -> integer (num_samples,) from (K,)
    gumbel_softmax(logits, tau, num_samples, seed, hard=False) -> (num_samples, K)
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OpContract:
    name: str
    signature: str
    summary: str
    sampler: bool = False


OPS: dict[str, OpContract] = {
    c.name: c
    for c in (
        OpContract("softmax", "softmax(x, axis=-1)", "exp(x) / sum(exp(x)) along axis"),
        OpContract("log_softmax", "log_softmax(x, axis=-1)", "x - logsumexp(x) along axis"),
        OpContract("logsumexp", "logsumexp(x, axis=-1)", "log(sum(exp(x))) along axis, axis removed"),
        OpContract(
            "cross_entropy",
            "cross_entropy(logits, targets)",
            "per-row logsumexp(logits) - logits[target], no reduction",
        ),
        OpContract(
            "temperature_softmax",
            "temperature_softmax(x, temperature, axis=-1)",
            "softmax(x / temperature) along axis",
        ),
        OpContract(
            "gumbel_max",
            "gumbel_max(logits, num_samples, seed)",
            "num_samples integer draws from softmax(logits)",
            sampler=True,
        ),
        OpContract(
            "gumbel_softmax",
            "gumbel_softmax(logits, tau, num_samples, seed, hard=False)",
            "num_samples relaxed one-hot samples softmax((logits + G) / tau)",
            sampler=True,
        ),
    )
}

DETERMINISTIC_OPS = tuple(name for name, c in OPS.items() if not c.sampler)
SAMPLER_OPS = tuple(name for name, c in OPS.items() if c.sampler)
