"""PyTorch eager on the CPU: torch.softmax, log_softmax, logsumexp, F.cross_entropy.

``torch_adapter(device)`` is shared with the CUDA adapter; only the device and
the availability check differ. Integer arrays (cross-entropy targets: int32 or
int64 in the contract) are handed to torch as int64 tensors, torch's index
dtype: F.cross_entropy refuses int32 targets. Native layouts (transposed,
strided, expanded, channels_last views) come from suite/layouts.py.
"""
from __future__ import annotations

import importlib.util

import ml_dtypes
import numpy as np

from suite.adapter import Adapter
from suite.layouts import torch_layouts

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


def cross_entropy(logits, targets):
    return _torch().nn.functional.cross_entropy(logits, targets, reduction="none")


def temperature_softmax(x, temperature, axis=-1):
    return _torch().softmax(x / temperature, dim=axis)


# --- samplers -------------------------------------------------------------
# Float inputs of 16 bits are sampled in float32 and the result rounded once, as
# for softmax: float16/bfloat16 Gumbel noise is quantized into ties (and
# torch's float16 exponential_ can return 0, i.e. infinite noise and a NaN row).


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
    """torch.nn.functional.gumbel_softmax on num_samples copies of the logits, under
    torch.manual_seed(seed) inside torch.random.fork_rng (the caller's RNG state is restored).
    hard=True is torch's straight-through estimator."""
    torch = _torch()
    devices = [logits.device] if logits.device.type == "cuda" else []
    work = logits.to(_sampling_dtype(logits))
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        rows = work.unsqueeze(0).expand(int(num_samples), -1)
        out = torch.nn.functional.gumbel_softmax(rows, tau=float(tau), hard=bool(hard), dim=-1)
    return out.to(logits.dtype)


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
    def from_numpy(a: np.ndarray):
        torch = _torch()
        if a.dtype == ml_dtypes.bfloat16:  # torch cannot read ml_dtypes; bfloat16 embeds exactly in float32
            return torch.from_numpy(a.astype(np.float32)).to(device=device, dtype=torch.bfloat16)
        if a.dtype.kind in "iu":  # class ids: torch indexes with int64 (F.cross_entropy refuses int32 targets)
            return torch.from_numpy(a.astype(np.int64)).to(device)
        return torch.from_numpy(np.array(a, copy=True)).to(device)

    def to_numpy(t) -> np.ndarray:
        torch = _torch()
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"expected torch.Tensor, got {type(t).__name__}")
        t = t.detach().cpu()
        if t.dtype == torch.bfloat16:
            return t.float().numpy().astype(ml_dtypes.bfloat16)
        return t.numpy()

    def is_native(t) -> bool:
        return isinstance(t, _torch().Tensor)

    return Adapter(
        name=name,
        backend="torch",
        device=device,
        dtypes=DTYPES,
        differentiable=True,
        ops=ops,
        from_numpy=from_numpy,
        to_numpy=to_numpy,
        is_native=is_native,
        native_type="torch.Tensor",
        unavailable_reason=unavailable_reason,
        description=f"PyTorch eager on {device}",
        origin=f"builtin({name!r})",
        versions=lambda: {"torch": _torch().__version__},
        layouts=torch_layouts(from_numpy),
    )


ADAPTER = torch_adapter("cpu", "torch-cpu", _torch_missing)
