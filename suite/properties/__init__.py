"""The property registry.

A property is one small function of a :class:`suite.runner.Context`, with a
docstring that states the mathematics. ``@prop`` registers it for the ops it
applies to. Hypothesis properties draw inputs and fail by raising; probes run
fixed inputs and return the behaviour they observed, for behaviours the
contract leaves implementation-defined.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

MODULES = (
    "suite.properties.invariants",
    "suite.properties.behaviours",
    "suite.properties.gradients",
    "suite.properties.accuracy",
    "suite.properties.samplers",
    "suite.properties.layouts",
    "suite.properties.indices",
    "suite.properties.options",
    "suite.properties.regimes",
)

HYPOTHESIS, PROBE = "hypothesis", "probe"
# FIXED: runs once on fixed inputs and passes or fails (the samplers' statistical batteries).
FIXED = "fixed"


@dataclass(frozen=True)
class Property:
    name: str
    ops: tuple[str, ...]
    func: Callable
    kind: str = HYPOTHESIS
    required: bool = True
    differentiable_only: bool = False
    # The dtypes the property is defined for; None for all. Others are skipped with this as the reason.
    dtypes: tuple[str, ...] | None = None
    # True: runs the op on the memory layouts of Adapter.layouts; skipped where there are none.
    needs_layouts: bool = False
    # True: draws among the options the target declares (Adapter.options); skipped where it declares
    # none (the target is then certified on the plain form).
    needs_options: bool = False
    # Fraction of the profile's examples to run (at least 5): for properties whose every example is costly.
    examples_scale: float = 1.0
    # A name (e.g. "huge") that must be asked for explicitly: left out of properties_for and of a
    # default certification.
    opt_in: str | None = None
    # Whether the kernel-scale passes of suite.sizes run it too (after its ordinary examples);
    # False only where the docstring says why the sizes cannot apply.
    kernel_sizes: bool = True
    # Whether it also runs the widest sizes of the menus (suite.sizes.SizePlan.widest_passes): for
    # properties that compare every output with the exact value, which see a wrong result anywhere.
    widest: bool = False
    # Whether it runs every entry of the menus once (SizePlan.menu_passes; the widest among them):
    # a defect confined to a window of sizes is then seen at every seed.
    menu: bool = False
    # For a graded property (one with a ``grade`` hook): the grades that pass under --policy strict
    # (suite/verdict.py). None: not graded, or descriptive (its grade never rejects).
    passing_grades: tuple[str, ...] | None = None

    @property
    def graded(self) -> bool:
        return getattr(self.func, "grade", None) is not None

    def skip_reason(self, dtype: str) -> str | None:
        if self.dtypes is None or dtype in self.dtypes:
            return None
        return f"{self.name} is defined for {', '.join(self.dtypes)} only"

    def adapter_skip_reason(self, adapter) -> str | None:
        if self.needs_layouts and not adapter.layouts:
            return f"{adapter.native_type} has no strides: layouts do not apply"
        if self.needs_options and not any(getattr(adapter, "options", {}).get(op) for op in self.ops):
            return "the target declares no option (e.g. fn.supports = {'ignore_index', 'reduction'}): certified on the plain form"
        return None

    @property
    def statement(self) -> str:
        """The docstring's first paragraph: the mathematical statement."""
        doc = (self.func.__doc__ or "").strip()
        return " ".join(doc.split("\n\n")[0].split())


_REGISTRY: dict[str, Property] = {}


def prop(
    *ops: str,
    kind: str = HYPOTHESIS,
    required: bool = True,
    differentiable_only: bool = False,
    dtypes: tuple[str, ...] | None = None,
    needs_layouts: bool = False,
    needs_options: bool = False,
    examples_scale: float = 1.0,
    opt_in: str | None = None,
    kernel_sizes: bool = True,
    widest: bool = False,
    menu: bool = False,
    passing_grades: tuple[str, ...] | None = None,
):
    def register(func: Callable) -> Callable:
        name = func.__name__
        if name in _REGISTRY:
            raise ValueError(f"property {name!r} is registered twice")
        _REGISTRY[name] = Property(
            name,
            tuple(ops),
            func,
            kind=kind,
            required=required,
            differentiable_only=differentiable_only,
            dtypes=dtypes,
            needs_layouts=needs_layouts,
            needs_options=needs_options,
            examples_scale=examples_scale,
            opt_in=opt_in,
            kernel_sizes=kernel_sizes,
            widest=widest,
            menu=menu,
            passing_grades=passing_grades,
        )
        return func

    return register


def all_properties() -> dict[str, Property]:
    for module in MODULES:
        importlib.import_module(module)
    return dict(_REGISTRY)


def properties_for(op: str, differentiable: bool = False) -> list[Property]:
    return [
        p
        for p in all_properties().values()
        if op in p.ops and (differentiable or not p.differentiable_only) and p.opt_in is None
    ]
