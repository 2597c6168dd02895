"""Kernel-scale sizes: class and row counts at kernel dispatch boundaries, under a size budget.

The ordinary draws (suite/strategies.py) keep arrays small: at most 512 classes
and 8 per batch dimension, which is where every bug of the arithmetic shows and
what keeps a certification fast. Real kernels also break at sizes: a blockwise
softmax whose multi-block path is wrong (Liger-Kernel#1252: rows wider than
65536), odd widths between 512 and 1024 (pytorch/pytorch#147284: float64 softmax
rows not summing to 1), a vocabulary not divisible by the block (verl#2899:
129920), a grid limit of 65535 rows (NVIDIA/TensorRT#2021, torch/cunn#150), a
32-bit flat index. So every Hypothesis property of a deterministic op runs, after
its ordinary examples, a few *kernel-scale* passes: separate Hypothesis runs whose
shapes come from the menus below, with at most ``budget`` elements per example.

Passes (one Hypothesis run each, ``examples`` examples; see :func:`passes`):
  long_rows   few rows (BATCH_SIZES) of a class count from KERNEL_CLASSES
  many_rows   a row count from KERNEL_ROWS of a class count that fits the budget
  long_or_many_rows  either menu, in one pass (the gradient properties, the sweep's many seeds, dev)
  classes=K   each class count the user pinned (``--classes``), few rows
  rows=R      each row count the user pinned (``--rows``), classes that fit
  widest_classes=K, widest_rows=R  the largest entry of each menu within the budget, in the
              properties that see a wrong value anywhere (``@prop(widest=True)``: definition,
              grad_closed_form), so that no certification leaves the widest sizes to chance

Every pass is deterministic: its seed is a function of the certification's seed,
the pass and (off JAX, which compiles per shape) the property and dtype
(:func:`pass_seed`), so a planned share of the examples is kernel-scale, the
menus are shared out over the properties of a certification, and every pinned
size appears in ``examples`` examples of every property (the first example of a
Hypothesis run is the simplest one: the menu's first entry, or the pinned size
with one row). Menus are ascending and Hypothesis shrinks a menu index
toward 0, so a failure is reported at the smallest failing size of its menu (a
kernel broken past 4096 classes at 4097). Shapes are 2-D: (rows, K) along the
last axis or (K, rows) along the first.

The plan travels with the settings: the worker builds it from the profile and the
request's pinned sizes and hands it to :func:`suite.runner.run_property`, which
puts the current pass on the Context (``ctx.sizes``); no module state.
"""
from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass

from hypothesis import strategies as st

# Around SIMD and warp widths (32, 64), thread-block sizes (512 to 16384), odd widths
# between 512 and 1024 (where pytorch#147284 shows), 2^16, and real vocabularies:
# Llama 2 (32000), 2^15, GPT-2 (50257), Llama 3 (128256), verl#2899's 129920,
# 2^17, Qwen 2 (151936), Gemma 3 (262144) and one past it.
KERNEL_CLASSES = (
    31, 32, 33, 63, 64, 65, 511, 512, 513, 523, 769, 1001, 1023, 1024, 1025,
    2047, 2048, 2049, 4095, 4096, 4097, 8191, 8192, 8193, 16383, 16384, 16385,
    32000, 32768, 50257, 65535, 65536, 65537, 128256, 129920, 131072, 151936, 262144, 262145,
)
# Row counts around a 4096-row fast path and past the 65535 limit of a CUDA grid's y and z dimensions.
KERNEL_ROWS = (4095, 4096, 4097, 65535, 65536, 65537)
# Few rows, and the class counts of rows that must stay short (many rows of them).
FEW_ROWS = (1, 2, 3, 4, 5, 8)
SHORT_CLASSES = (1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, 63, 64, 65, 100, 128, 129, 255, 256, 257)

# Largest pinned size accepted: one pinned row of 2^24 classes, or 2^24 rows of one class.
MAX_PINNED = 2**24

LONG_ROWS, MANY_ROWS, PINNED_CLASSES, PINNED_ROWS = "long_rows", "many_rows", "classes", "rows"
WIDEST_CLASSES, WIDEST_ROWS = "widest_classes", "widest_rows"
MENU_CLASSES, MENU_ROWS = "menu_classes", "menu_rows"
SIZE_LABEL = "kernel-scale rows and classes"  # the draw's label, read back for the coverage
# One pass drawing from either menu: the sweep's many seeds share out the two menus between them.
EITHER = "long_or_many_rows"


@dataclass(frozen=True)
class SizePlan:
    """The kernel-scale passes of one profile, and the sizes the user pinned."""

    budget: int  # most elements of one kernel-scale example (a pinned size may exceed it: see shape())
    examples: int  # examples per pass, per property and dtype
    classes: tuple[int, ...] = ()  # pinned class counts
    rows: tuple[int, ...] = ()  # pinned row counts
    merged: bool = False  # one pass over both menus instead of one pass each
    # Most rows of a menu example, on an emulated device (suite.backends.Emulated.max_rows): the
    # KERNEL_ROWS entries past it are left out, and the certificate says so; pinned rows still run.
    max_rows: int | None = None

    def with_pinned(self, classes=(), rows=()) -> "SizePlan":
        return dataclasses.replace(self, classes=tuple(classes), rows=tuple(rows))

    def for_gradients(self) -> "SizePlan":
        """The plan of the gradient properties: both menus in one pass. A VJP and its long-double
        closed form cost several forward passes, and each (property, dtype) draws its own
        shapes, so the menus are still shared out over a certification."""
        return dataclasses.replace(self, merged=True)

    def passes(self) -> list["SizePass"]:
        """Every kernel-scale pass, the two menus first, then one per pinned size."""
        if self.examples <= 0:
            return []
        menus = [EITHER] if self.merged else [LONG_ROWS, MANY_ROWS]
        found = [SizePass(kind, self.budget, max_rows=self.max_rows) for kind in menus]
        found += [SizePass(PINNED_CLASSES, self.budget, k) for k in self.classes]
        found += [SizePass(PINNED_ROWS, self.budget, r) for r in self.rows]
        return found

    def widest_passes(self) -> list["SizePass"]:
        """The largest class count and row count of the menus within the budget, each a pass of
        its own (unless the user pinned it already): one row of 262145 classes and 65537 rows at ci."""
        if self.examples <= 0:
            return []
        widest_k = max([k for k in KERNEL_CLASSES if k <= self.budget], default=0)
        widest_r = max(self.row_menu(), default=0)
        found = [SizePass(WIDEST_CLASSES, self.budget, widest_k)] if widest_k and widest_k not in self.classes else []
        return found + ([SizePass(WIDEST_ROWS, self.budget, widest_r)] if widest_r and widest_r not in self.rows else [])

    def menu_passes(self) -> list["SizePass"]:
        """Every entry of both menus within the budget, one pass each (its first example, the
        simplest, has the menu's fewest rows, or for a row count the fewest classes): one example
        per size in every certification of the properties that sweep the menus."""
        if self.examples <= 0:
            return []
        found = [SizePass(MENU_CLASSES, self.budget, k) for k in KERNEL_CLASSES if k <= self.budget and k not in self.classes]
        return found + [SizePass(MENU_ROWS, self.budget, r) for r in self.row_menu() if r not in self.rows]

    def row_menu(self) -> list[int]:
        """The KERNEL_ROWS entries this plan draws: within the budget and the row cap."""
        return row_menu(self.budget, self.max_rows)

    def rows_left_out(self) -> list[int]:
        """The KERNEL_ROWS entries within the budget that the row cap leaves out."""
        return [r for r in KERNEL_ROWS if r <= self.budget and r not in self.row_menu()]

    def as_dict(self) -> dict:
        return {
            "budget": self.budget,
            "examples": self.examples,
            "passes": [p.label for p in self.passes()],
            "widest_passes": [p.label for p in self.widest_passes()],
            "menu_passes": len(self.menu_passes()),
            "classes": list(self.classes),
            "rows": list(self.rows),
        } | ({"max_rows": self.max_rows} if self.rows_left_out() else {})


@dataclass(frozen=True)
class SizePass:
    """One kernel-scale pass: which menu (or pinned size) its shapes come from."""

    kind: str
    budget: int
    value: int = 0  # the pinned size, for PINNED_CLASSES and PINNED_ROWS
    max_classes: int | None = None  # a property's documented cap (see capped())
    max_rows: int | None = None  # the plan's row cap (SizePlan.max_rows), for MANY_ROWS

    @property
    def label(self) -> str:
        return f"{self.kind}={self.value}" if self.value else self.kind

    def capped(self, max_classes: int) -> "SizePass":
        """The same pass with class counts at most ``max_classes`` (for checks that cost O(K) calls)."""
        return dataclasses.replace(self, max_classes=max_classes)

    def _fits(self, k: int) -> bool:
        return self.max_classes is None or k <= self.max_classes

    def rows_and_classes(self) -> st.SearchStrategy[tuple[int, int]]:
        """(rows, K) for this pass: the varying size first, each from an ascending menu."""
        budget = self.budget
        if self.kind == EITHER:
            menus = [dataclasses.replace(self, kind=kind).rows_and_classes() for kind in (LONG_ROWS, MANY_ROWS)]
            return st.sampled_from(menus).flatmap(lambda menu: menu)
        if self.kind == LONG_ROWS:
            menu = [k for k in KERNEL_CLASSES if k <= budget and self._fits(k)] or [1]
            return st.sampled_from(menu).flatmap(lambda k: st.tuples(_fitting(FEW_ROWS, budget // k), st.just(k)))
        if self.kind == MANY_ROWS:
            menu = row_menu(budget, self.max_rows) or [1]
            shorts = tuple(k for k in SHORT_CLASSES + KERNEL_CLASSES if self._fits(k))
            return st.sampled_from(menu).flatmap(lambda r: st.tuples(st.just(r), _fitting(shorts, budget // r)))
        if self.kind in (PINNED_CLASSES, WIDEST_CLASSES, MENU_CLASSES):
            k = self.value if self._fits(self.value) else self.max_classes
            return st.tuples(_fitting(FEW_ROWS, budget // k), st.just(k))
        if self.kind in (PINNED_ROWS, WIDEST_ROWS, MENU_ROWS):
            shorts = tuple(k for k in SHORT_CLASSES + KERNEL_CLASSES if self._fits(k))
            return st.tuples(st.just(self.value), _fitting(shorts, budget // self.value))
        raise ValueError(f"unknown size pass {self.kind!r}")

    def shape(self, draw, op, last_axis: bool = False) -> tuple[tuple[int, int], int]:
        """A 2-D shape and axis: (rows, K) along axis -1, or (K, rows) along axis 0 or -2 for the
        ops with an axis (``op``: its record, suite.ops.Op; cross_entropy's classes are always last)."""
        rows, k = draw(self.rows_and_classes(), SIZE_LABEL)
        if not op.takes_axis or last_axis:
            return (rows, k), -1
        axis = draw(st.sampled_from([-1, 0, -2]), "axis")
        return ((rows, k) if axis == -1 else (k, rows)), axis


def row_menu(budget: int, max_rows: int | None) -> list[int]:
    """The KERNEL_ROWS entries within ``budget`` elements and the row cap ``max_rows`` (None: no cap)."""
    return [r for r in KERNEL_ROWS if r <= budget and (max_rows is None or r <= max_rows)]


def _fitting(menu, most: int) -> st.SearchStrategy[int]:
    """An entry of ``menu`` at most ``most``; the smallest entry when none fits (a pinned size past the budget)."""
    fitting = [m for m in menu if m <= most]
    return st.sampled_from(fitting or [min(menu)])


# Per profile: (budget in elements, examples per pass, one merged pass). ci and its derivatives keep a
# kernel-scale example at most 2^18 + 1 elements, one row of the menu's largest class count
# (a few tenths of a second of oracle and bound); thorough reaches many rows of long classes
# (4097 rows of 1024, 64 rows of 65536).
CI_BUDGET = 2**18 + 1
PROFILE_SIZES = {
    "dev": (CI_BUDGET, 2, True),
    "ci": (CI_BUDGET, 2, False),
    "detect": (CI_BUDGET, 2, False),
    "sweep": (CI_BUDGET, 2, True),  # 20 seeds: 20 kernel-scale examples per property from either menu
    "thorough": (2**22, 12, False),
}


# On a backend that compiles per shape (JAX; suite/backends/), every property and dtype draws
# the same kernel-scale shapes for a seed, so that compilations are shared; elsewhere each
# property and dtype draws its own, which spreads the menus over a certification.
def pass_seed(seed: int | None, prop: str, dtype: str, backend: str, size_pass: SizePass) -> int:
    """The Hypothesis seed of a kernel-scale pass: a function of the certification's seed (and,
    off compiling backends, of the property and dtype), never of what ran before."""
    from suite import backends

    key = f"{seed or 0}:{size_pass.label}" if backends.get(backend).compiles_per_shape else f"{seed or 0}:{prop}:{dtype}:{size_pass.label}"
    return zlib.crc32(key.encode())


def plan_for(profile: str, classes=(), rows=(), emulated=None) -> SizePlan:
    """The profile's plan with the pinned sizes; on an emulated device (``emulated``: its
    suite.backends.Emulated record) the row menu is capped at its fixed max_rows."""
    budget, examples, merged = PROFILE_SIZES.get(profile, PROFILE_SIZES["ci"])
    max_rows = emulated.max_rows if emulated is not None else None
    return SizePlan(budget, examples, merged=merged, max_rows=max_rows).with_pinned(classes, rows)


def parse_pinned(text, what: str) -> tuple[int, ...]:
    """Pinned sizes from "50257,129920" (or a list of ints); a UsageError names a bad one."""
    from suite.adapter import UsageError

    if text is None or text == "":
        return ()
    items = [t.strip() for t in text.split(",")] if isinstance(text, str) else list(text)
    values = []
    for item in items:
        if isinstance(item, str) and not item:
            continue
        try:
            value = int(item)
            if isinstance(item, float) or isinstance(item, bool) or str(item).strip() not in (str(value), f"+{value}"):
                raise ValueError
        except (TypeError, ValueError):
            raise UsageError(f"--{what} takes comma-separated positive integers, not {item!r}") from None
        if not 1 <= value <= MAX_PINNED:
            raise UsageError(f"--{what} {value}: each must be between 1 and {MAX_PINNED}")
        values.append(value)
    return tuple(dict.fromkeys(values))
