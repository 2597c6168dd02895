"""Adapters: how the suite talks to an implementation on some backend.

An adapter bundles the op callables with what the harness needs to drive them:
conversion between NumPy and the backend's native arrays (from the backend's
record, suite/backends/), the device, the dtypes it supports, whether it is
differentiable, and whether it can run on this machine at all (and if not, why).
Built-in adapters live one per file in ``implementations/``; a third-party target
reuses a built-in adapter's backend glue with its own callable (see :func:`load_target`).
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from suite import backends
from suite.ops import OPS

BUILTIN_MODULES = (
    "implementations.numpy_reference",
    "implementations.scipy_special",
    "implementations.numba_fused",
    "implementations.torch_cpu",
    "implementations.jax_jit",
    "implementations.jax_reference",  # "jax-workarounds": the suite's workarounds, beside JAX as users call it
    "implementations.torch_cuda",
    "implementations.triton_softmax",
    "implementations.liger_kernel_ops",
    "implementations.onnxruntime_ops",
    "implementations.tensorflow_ops",
    "implementations.paddle_ops",
    "implementations.openvino_ops",
    "implementations.tinygrad_ops",
    "implementations.mlx_ops",
)

# The built-in adapter whose backend glue a third-party target borrows, per (backend, device):
# from the backend records (suite/backends/).
BACKEND_GLUE = {(b.name, device): module for b in backends.all_backends().values() for device, module in b.glue.items()}


class UsageError(Exception):
    """A problem with what the user asked for; the CLI prints it as one line and exits 2."""


@dataclass(frozen=True)
class Adapter:
    name: str
    backend: str  # "numpy", "torch" or "jax": the kind of native array
    device: str
    dtypes: tuple[str, ...]
    differentiable: bool
    ops: Mapping[str, Callable[..., Any]]
    from_numpy: Callable[[np.ndarray], Any]
    to_numpy: Callable[[Any], np.ndarray]
    is_native: Callable[[Any], bool]
    native_type: str
    unavailable_reason: Callable[[], str | None] = lambda: None
    description: str = ""
    # A Python expression that rebuilds this adapter, for one-line repros.
    origin: str = ""
    versions: Callable[[], dict[str, str]] = field(default=lambda: {})
    # Fraction of the Hypothesis profile's max_examples to run. Backends that
    # compile once per input shape (JAX's jit: ~0.15 s of CPU each) set it below
    # 1 so that the battery fits CI; the thorough profile still gives them many.
    examples_scale: float = 1.0
    # The memory layouts native arrays can take (suite/layouts.py), for the property ``layouts``;
    # empty for a backend whose arrays have no strides (JAX).
    layouts: Mapping[str, Any] = field(default_factory=dict)
    # True for a real library's column: its import may clash with another library's in one
    # process (PaddlePaddle 3.3 segfaults when imported after TensorFlow 2.21), so a worker
    # process that runs it runs no other adapter (suite/isolation.py starts a fresh one).
    own_worker: bool = False
    # Declared by a third-party target on a differentiable backend (--forward-only): no backward pass.
    forward_only: bool = False
    # Per op, the keyword options of its contract (suite.ops.Op.options) the callable supports: a
    # built-in declares them here, a third-party callable as its attribute ``supports`` (a set of
    # names, read by wrap_callable). Empty: the plain form only.
    options: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        return self.unavailable_reason() is None


def backend_adapter(backend: str, device: str, name: str, ops: Mapping[str, Callable[..., Any]], dtypes: tuple[str, ...], **details) -> Adapter:
    """An adapter on ``backend`` and ``device``, with that backend record's conversions and layouts
    (suite/backends/); ``details`` are the other Adapter fields, and may override them."""
    glue = backends.get(backend)
    fields = glue.conversions(device).fields() | {"differentiable": glue.differentiable, "origin": f"builtin({name!r})"}
    return Adapter(name=name, backend=backend, device=device, dtypes=dtypes, ops=ops, **(fields | details))


def numpy_adapter(name: str, ops: Mapping[str, Callable[..., Any]], dtypes: tuple[str, ...], **details) -> Adapter:
    """An adapter whose native arrays are NumPy arrays (the reference, SciPy, third-party NumPy code)."""
    return backend_adapter("numpy", "cpu", name, ops, dtypes, **details)


def extra_missing(extra: str, *modules: str) -> str | None:
    """For a real library's adapter: why it cannot run here when one of ``modules`` is not installed,
    naming the extra that installs them; None when all are. Looks them up without importing them."""
    if any(importlib.util.find_spec(m) is None for m in modules):
        return f"not installed: pip install 'softmax-suite[{extra}]'"
    return None


def installed_version(*distributions: str) -> str:
    """The version of the first of ``distributions`` that is installed, followed by a space ("" when
    none is), read from its metadata without importing it: for an adapter's description."""
    from importlib import metadata

    for name in distributions:
        try:
            return metadata.version(name) + " "
        except metadata.PackageNotFoundError:
            continue
    return ""


def builtin_adapters() -> list[Adapter]:
    """Every built-in adapter, available on this machine or not."""
    return [importlib.import_module(m).ADAPTER for m in BUILTIN_MODULES]


def builtin(name: str) -> Adapter:
    for adapter in builtin_adapters():
        if adapter.name == name:
            return adapter
    known = ", ".join(a.name for a in builtin_adapters())
    raise UsageError(f"unknown built-in implementation {name!r}; choose one of: {known}")


def _resolve_callable(spec: str) -> tuple[Callable[..., Any], str]:
    """Import ``package.module:attr`` or ``path/to/file.py:attr``."""
    if ":" not in spec:
        raise UsageError(
            f"target {spec!r} has no ':attr'; write it as package.module:function or path/to/file.py:function"
        )
    where, _, attr = spec.rpartition(":")
    if where.endswith(".py") or "/" in where or "\\" in where:
        path = Path(where)
        if not path.is_file():
            raise UsageError(f"no such file {where!r}; give an existing path/to/file.py:function")
        module_name = f"_softmax_suite_target_{abs(hash(str(path.resolve())))}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        try:
            module_spec.loader.exec_module(module)
        except Exception as exc:  # the target's own import failed
            raise UsageError(f"importing {where!r} raised {type(exc).__name__}: {exc}") from None
    else:
        if str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))
        try:
            module = importlib.import_module(where)
        except ModuleNotFoundError as exc:
            raise UsageError(
                f"cannot import module {where!r} ({exc}); check the name or run from the directory that contains it"
            ) from None
        except Exception as exc:
            raise UsageError(f"importing {where!r} raised {type(exc).__name__}: {exc}") from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise UsageError(f"{where!r} has no attribute {attr!r}; check the name after ':'")
        obj = getattr(obj, part)
    if not callable(obj):
        raise UsageError(f"{spec!r} is a {type(obj).__name__}, not callable; point at a function")
    return obj, where


def _backend_glue(op: str, backend: str, device: str) -> Adapter:
    """The built-in adapter whose conversions a third-party ``op`` on backend/device borrows."""
    if op not in OPS:
        raise UsageError(f"unknown op {op!r}; choose one of: {', '.join(OPS)}")
    glue_module = BACKEND_GLUE.get((backend, device))
    if glue_module is None:
        pairs = ", ".join(f"--backend {b} --device {d}" for b, d in BACKEND_GLUE)
        raise UsageError(f"unsupported backend/device {backend}/{device}; choose one of: {pairs}")
    glue: Adapter = importlib.import_module(glue_module).ADAPTER
    reason = glue.unavailable_reason()
    if reason is not None:
        raise UsageError(f"backend {backend} on {device} is not usable here: {reason}")
    return glue


def wrap_callable(
    fn: Callable[..., Any], spec: str, op: str, backend: str = "numpy", device: str = "cpu", description: str = "",
    *, forward_only: bool = False,
) -> Adapter:
    """``fn`` implementing ``op``, wrapped in a built-in backend's glue; ``spec`` names it in repros.
    ``forward_only``: the target declares it has no backward pass (a forward kernel on a
    differentiable backend), so its gradient properties are skipped with that reason."""
    glue = _backend_glue(op, backend, device)
    supported = declared_options(fn, op)
    return dataclasses.replace(
        glue,
        name=spec,
        ops={op: fn},
        description=description or f"third-party {op} on {backend}/{device}",
        origin=f"load_target({spec!r}, op={op!r}, backend={backend!r}, device={device!r})",
        differentiable=glue.differentiable and not forward_only,
        forward_only=forward_only,
        options={op: supported} if supported else {},
    )


def declared_options(fn: Callable[..., Any], op: str) -> frozenset[str]:
    """The options of ``op``'s contract that ``fn`` declares it supports: its attribute ``supports``
    (e.g. ``cross_entropy.supports = {"ignore_index", "reduction"}``), checked against the contract."""
    supported = getattr(fn, "supports", None)
    if supported is None:
        return frozenset()
    names = frozenset([supported] if isinstance(supported, str) else supported)
    known = OPS[op].options
    unknown = sorted(names - set(known))
    if unknown:
        offered = f"choose among: {', '.join(known)}" if known else f"{op} has no options"
        raise UsageError(f"{getattr(fn, '__name__', fn)!r} declares unknown {op} option(s) {', '.join(unknown)}; {offered}")
    return names


def load_target(spec: str, op: str, backend: str = "numpy", device: str = "cpu", *, forward_only: bool = False) -> Adapter:
    """A third-party callable implementing ``op``, wrapped in a built-in backend's glue."""
    _backend_glue(op, backend, device)  # a bad op or backend is reported before the target is imported
    emulation = backends.emulated(backend, device)
    if emulation is not None:  # e.g. TRITON_INTERPRET=1, read when the target's @triton.jit decorates
        os.environ.update(emulation.env)
    fn, _ = _resolve_callable(spec)
    return wrap_callable(fn, spec, op, backend, device, forward_only=forward_only)
