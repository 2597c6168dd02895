"""One record per backend: the kind of native array an adapter's ops take and return.

A backend record holds everything about NumPy, torch or JAX that is not about one
implementation: the conversions to and from NumPy on each device, the memory layouts its
arrays can take, its autodiff glue (a VJP and the finite-difference checks), how to wait
for a result (JAX and CUDA return before the work is done), whether it compiles once per
input shape, and the built-in whose glue third-party code on it borrows (also its speed
baseline). Each backend is one file in this package; a new one is a new file here,
listed in :data:`BACKEND_MODULES`, and its adapters in ``implementations/``.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class Conversions:
    """How an adapter on one device reaches its native arrays (the fields of suite.adapter.Adapter)."""

    from_numpy: Callable[[Any], Any]
    to_numpy: Callable[[Any], Any]
    is_native: Callable[[Any], bool]
    native_type: str
    layouts: Mapping[str, Any] = field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


def _no_wait(out) -> None:
    return None


@dataclass(frozen=True)
class Emulated:
    """A device that runs kernels under an emulator on another device's arrays (Triton's
    interpreter on the CPU): what it sets up, what it cannot model, and what it costs.

    Nothing here depends on a timing: the row cap is fixed, so the same seed gives the same
    sizes, and so the same verdict, on every machine."""

    arrays_on: str  # the device the native arrays live on ("cpu")
    env: Mapping[str, str]  # set in the worker before the adapter is built; that worker runs no other adapter
    numerics: str  # how its arithmetic differs from the real device's (the certificate's description)
    unsupported: Mapping[str, str]  # dtype -> why it cannot be certified there
    max_rows: int  # most rows of a kernel-scale menu example (pinned --rows are still run)
    cost: str  # why rows past max_rows are left out (the measured cost of a call is appended)
    no_speed: str  # why the speed section is not measured there


@dataclass(frozen=True)
class Backend:
    name: str
    # device -> Conversions on that device
    conversions: Callable[[str], Conversions]
    # device -> the built-in adapter module whose conversions a third-party target borrows, and
    # device -> that built-in's name: the baseline the speed section compares a target with
    glue: Mapping[str, str]
    baselines: Mapping[str, str]
    # Autodiff glue, None where the backend has none:
    # vjp(adapter, op, args, kwargs, cotangent, view, disconnected) -> NumPy gradient w.r.t. args[0]
    # finite_differences(adapter, op, args, kwargs, atol, step) -> None, or what disagrees
    vjp: Callable | None = None
    finite_differences: Callable | None = None
    # device -> a function of a result that returns once the result exists (the timing clock's stop)
    waiter: Callable[[str], Callable[[Any], None]] = lambda device: _no_wait
    # True where every new input shape is a compilation (JAX's jit: ~0.15 s of CPU each): the
    # properties draw shapes from a small menu there, and the size passes share their draws
    compiles_per_shape: bool = False
    # Temporaries of the input's size one call allocates, at least float32 each (suite/huge.py's estimate)
    temporaries: int = 5
    # Devices where the warm path can pre-touch results by tuning an allocator (suite/allocator.py)
    allocator_devices: tuple[str, ...] = ()
    # device -> bytes free on it, for an accelerator (suite/huge.py sizes its arrays to fit)
    free_device_memory: Callable[[str], int] | None = None
    # A native float array -> the same values as a leaf that records gradients (torch: requires_grad),
    # for input_unmodified's call as training calls the op; None where arrays are immutable (JAX)
    # or record nothing (NumPy)
    tracked: Callable[[Any], Any] | None = None
    tracked_repro: str = ""  # what a repro appends to a native array to make it such a leaf
    # device -> its emulation, for a device that runs under an emulator (torch's "triton-interpret")
    emulated: Mapping[str, Emulated] = field(default_factory=dict)

    @property
    def differentiable(self) -> bool:
        return self.vjp is not None


BACKEND_MODULES = ("suite.backends.numpy", "suite.backends.torch", "suite.backends.jax")


@functools.cache
def all_backends() -> dict[str, Backend]:
    """Every backend record by name (built once: the properties ask for their backend per example)."""
    records = [importlib.import_module(m).BACKEND for m in BACKEND_MODULES]
    return {b.name: b for b in records}


def get(name: str) -> Backend:
    backends = all_backends()
    if name not in backends:
        raise ValueError(f"unknown backend {name!r}; the backends are {', '.join(backends)}")
    return backends[name]


def emulated(backend: str, device: str) -> Emulated | None:
    """The emulation of ``device`` on ``backend`` (None for a real device, or an unknown backend)."""
    record = all_backends().get(backend)
    return record.emulated.get(device) if record is not None else None


def identity(a):
    return a


def shorten(text, limit: int = 1500) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit] + " ..."


def first_paragraph(exc) -> str:
    return shorten(str(exc).strip().split("\n\n")[0], 400)


def native_rest(adapter, args) -> list:
    """The arguments after the differentiated one, on the adapter's device (arrays converted)."""
    import numpy as np

    return [adapter.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args[1:]]
