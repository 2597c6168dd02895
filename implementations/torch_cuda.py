"""PyTorch eager on a CUDA device: the torch CPU adapter's ops on device "cuda".

Unavailable, with the reason, where torch is missing or sees no CUDA device.
"""
from __future__ import annotations

from implementations.torch_cpu import _torch, _torch_missing, torch_adapter


def _no_cuda() -> str | None:
    missing = _torch_missing()
    if missing:
        return missing
    if not _torch().cuda.is_available():
        return "no CUDA device visible to torch (torch.cuda.is_available() is False)"
    return None


ADAPTER = torch_adapter("cuda", "torch-cuda", _no_cuda)
