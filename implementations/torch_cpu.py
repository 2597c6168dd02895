"""PyTorch eager on the CPU: torch.softmax, log_softmax, logsumexp, F.cross_entropy.

``torch_adapter(device)`` is shared with the CUDA adapter; only the device and
the availability check differ. The conversions (int32 class ids handed to torch
as int64, torch's index dtype: F.cross_entropy refuses int32 targets), the
layouts and the autodiff glue are the torch backend's (suite/backends/torch.py).
"""
from __future__ import annotations

import importlib.util

from suite.adapter import Adapter, backend_adapter
from suite.ops import CROSS_ENTROPY_OPTIONS

DTYPES = ("float16", "bfloat16", "float32", "float64")


def _torch():
    import torch

    return torch


def softmax(x, axis=-1):
    return _torch().softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    return _torch().log_softmax(x, dim=axis)


def logsumexp(x, axis=-1):
    return _torch().logsumexp(x, dim=axis)


def cross_entropy(logits, targets, ignore_index=-100, label_smoothing=0.0, weight=None, reduction="none", z_loss=0.0, softcap=None):
    """torch.nn.functional.cross_entropy (ignore_index, label_smoothing, weight, reduction), with
    Gemma 2's soft-capping c tanh(x / c) before it and the z-loss z LSE^2 of the rows not ignored
    after it (averaged over those rows for "mean", as Liger-Kernel does): torch has neither."""
    torch = _torch()
    x = logits if softcap is None else softcap * torch.tanh(logits / softcap)
    loss = torch.nn.functional.cross_entropy(
        x, targets, weight=weight, ignore_index=ignore_index, reduction=reduction, label_smoothing=label_smoothing
    )
    if not z_loss:
        return loss
    kept = targets != ignore_index
    lse = torch.logsumexp(x, dim=-1)
    zl = torch.where(kept, z_loss * lse * lse, torch.zeros_like(lse))
    if reduction == "none":
        return loss + zl
    if reduction == "sum":
        return loss + zl.sum()
    return loss + zl.sum() / kept.sum()


cross_entropy.supports = frozenset(CROSS_ENTROPY_OPTIONS)  # read by certify path/to/file.py:cross_entropy too


def temperature_softmax(x, temperature, axis=-1):
    return _torch().softmax(x / temperature, dim=axis)


# --- samplers -------------------------------------------------------------
# gumbel_softmax is torch's public torch.nn.functional.gumbel_softmax as users call it,
# in the logits' dtype (no float32 upcast): torch draws its noise with exponential_ in
# that dtype. torch has no public Gumbel-max op (users call torch.multinomial on
# softmax probabilities, or torch.distributions.Categorical(logits=...).sample);
# gumbel_max is the Gumbel-max trick written in torch ops, its noise drawn in float32
# for 16-bit logits (a bfloat16 uniform has 8 random bits: quantized noise and ties).


def _sampling_dtype(t):
    torch = _torch()
    return torch.float64 if t.dtype == torch.float64 else torch.float32


def gumbel_max(logits, num_samples, seed):
    """argmax(logits + G) per sample; G = -log(-log U), U ~ torch.rand from a torch.Generator
    seeded with ``seed`` on the logits' device (the global RNG is untouched)."""
    torch = _torch()
    generator = torch.Generator(device=logits.device).manual_seed(int(seed))
    work = logits.detach().to(_sampling_dtype(logits))
    uniform = torch.rand((int(num_samples),) + tuple(work.shape), generator=generator, dtype=work.dtype, device=work.device)
    return torch.argmax(work - torch.log(-torch.log(uniform)), dim=-1)


def gumbel_softmax(logits, tau, num_samples, seed, hard=False):
    """torch.nn.functional.gumbel_softmax on num_samples copies of the logits, in their dtype,
    under torch.manual_seed(seed) inside torch.random.fork_rng (F.gumbel_softmax takes no
    generator; the caller's RNG state is restored). hard=True is torch's straight-through estimator."""
    torch = _torch()
    devices = [logits.device] if logits.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        rows = logits.unsqueeze(0).expand(int(num_samples), -1)
        return torch.nn.functional.gumbel_softmax(rows, tau=float(tau), hard=bool(hard), dim=-1)


OPS = {
    "softmax": softmax,
    "log_softmax": log_softmax,
    "logsumexp": logsumexp,
    "cross_entropy": cross_entropy,
    "temperature_softmax": temperature_softmax,
    "gumbel_max": gumbel_max,
    "gumbel_softmax": gumbel_softmax,
}


def _torch_missing() -> str | None:
    if importlib.util.find_spec("torch") is None:
        return "torch is not installed (pip install 'softmax-suite[torch]')"
    return None


def torch_adapter(device: str, name: str, unavailable_reason, ops=OPS) -> Adapter:
    """torch's ops on ``device``, with the torch backend's conversions and layouts (suite/backends/torch.py)."""
    return backend_adapter(
        "torch",
        device,
        name,
        ops,
        DTYPES,
        unavailable_reason=unavailable_reason,
        options={"cross_entropy": cross_entropy.supports} if ops.get("cross_entropy") is cross_entropy else {},
        description=f"PyTorch eager on {device}",
        versions=lambda: {"torch": _torch().__version__},
    )


ADAPTER = torch_adapter("cpu", "torch-cpu", _torch_missing)
