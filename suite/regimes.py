"""The regime battery: fixed tables of rows in the regimes of real inputs that random draws seldom reach.

Hypothesis searches; it does not promise to visit a regime. A defect that lives in one regime
(left padding, an exact tie of the maximum, one band of magnitudes, a class id in a vectorised
tail, one row of a tile, a small temperature) was caught at one seed and missed at another. So
each regime below is a table of rows built by design, the same at every seed (the generator's
seed is a function of the regime, pattern, op, dtype and width alone), run through the
implementation in a few calls and checked against the oracle in one vectorised pass per call.

Sizes. Every table is cut into three size classes, each a fixed set of shapes (rows x classes)
shared by every regime, so that a backend that compiles per shape compiles each shape once:
  short   3 to 64 classes, 1024 rows per width
  medium  65 to 4096 classes, about 2^16 elements per width (64 rows at least)
  wide    4097 classes up to the size plan's budget, about 2^16 elements per width (one row at least)
The tiles regime alone runs 4097 rows (of 8 and of 33 classes), so that every first and last row
of tiles of 256, 1024 and 4096 rows is checked.
On an emulated device (the Triton interpreter, whose every row is a kernel instance of a few
milliseconds) the rows per width are capped at ``EMULATED_ROWS`` and the certificate says so
through its row counts: its power is then lower, and stated.

Power. N checked outputs (or rows) catch a defect that affects a fraction p of a regime's
outputs, placed independently of the table, with probability 1 - (1 - p)^N;
``detectable_fraction`` is the p at which that probability is 1 - 1e-6 (about 13.8 / N). Some
patterns are certain, not probable: every block boundary of a short or medium width is masked.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np

from suite import dtypes as dt

SHORT_WIDTHS = (3, 8, 17, 33, 64)
MEDIUM_WIDTHS = (65, 257, 1000, 1025, 4096)
# Past 4096 classes: a blockwise kernel's multi-block path, 2^15 (a first block fully masked by a
# prefix of 32768), GPT-2's vocabulary, just past 2^16, and the menu's widest entry.
WIDE_WIDTHS = (4097, 32768, 50257, 65537, 262145)
SHORT_ROWS = 1024
TILE_ROWS = 4097  # rows 0, 255, 256, 1023, 1024, 4095 and 4096 are first and last rows of tiles
TILE_WIDTHS = (8, 33)
ELEMENTS_PER_WIDTH = 2**16
# Enough rows for every special mask length of a medium width (3 per power of two below 4096, and two more).
MEDIUM_LEAST_ROWS = 64
EMULATED_ROWS = 64
# The many-rows size class (the gradients regime): 65537 rows of 3 classes, past a CUDA grid's 65535.
MANY_ROWS_WIDTHS = (3,)
MANY_ROWS = 65537
SIZE_CLASSES = ("short", "medium", "wide", "many")
# The power statement's miss probability.
MISS_PROBABILITY = 1e-6


def detectable_fraction(checked: int) -> float:
    """The smallest fraction p of a regime's outputs (or rows) that a defect may affect and still be
    caught with probability at least 1 - MISS_PROBABILITY by ``checked`` of them: (1 - p)^checked = 1e-6."""
    return 1.0 if checked <= 0 else -math.expm1(math.log(MISS_PROBABILITY) / checked)


@dataclass(frozen=True)
class Table:
    """One call's worth of rows of a regime: logits (rows, n) in the dtype, and the other inputs."""

    regime: str
    pattern: str  # the sub-regime every row of this table is in, e.g. "prefix" or "3-way tie"
    size_class: str
    x: np.ndarray
    targets: np.ndarray | None = None
    temperature: float | None = None


def widths(size_class: str, budget: int) -> tuple[int, ...]:
    menu = {"short": SHORT_WIDTHS, "medium": MEDIUM_WIDTHS, "wide": WIDE_WIDTHS, "many": MANY_ROWS_WIDTHS}[size_class]
    return tuple(n for n in menu if n <= budget)


def rows_for(size_class: str, n: int, budget: int, max_rows: int | None) -> int:
    """Rows of one table of width ``n``: a function of the width alone (shapes are shared by regimes)."""
    if size_class == "short":
        rows = SHORT_ROWS
    elif size_class == "many":
        rows = MANY_ROWS if MANY_ROWS * n <= budget else max(1, budget // n)
    else:
        rows = max(MEDIUM_LEAST_ROWS if size_class == "medium" else 1, ELEMENTS_PER_WIDTH // n)
    return min(rows, EMULATED_ROWS) if max_rows is not None else rows


def generator(regime: str, op: str, dtype: str, n: int) -> np.random.Generator:
    """The table's generator: a function of what it is for, never of the certification's seed."""
    return np.random.default_rng(zlib.crc32(f"{regime}:{op}:{dtype}:{n}".encode()))


def rounded(values: np.ndarray, dtype: str) -> np.ndarray:
    """float64 values rounded once to ``dtype`` (what the implementation receives)."""
    with np.errstate(over="ignore"):
        return np.asarray(values, dtype=np.float64).astype(dt.numpy_dtype(dtype))


# --- the row builders: (rng, rows, n) -> float64 logits (rows, n), -inf where masked -----------------


def _moderate(rng: np.random.Generator, rows: int, n: int) -> np.ndarray:
    """Well-scaled logits: N(0, 3^2) on an offset per row from {0, 20, -50, 1e3}."""
    offsets = rng.choice([0.0, 20.0, -50.0, 1e3], size=(rows, 1))
    return offsets + rng.normal(0.0, 3.0, (rows, n))


def _mask_lengths(rng: np.random.Generator, rows: int, n: int) -> np.ndarray:
    """How many entries each row masks, 1 to n - 1, cycling so that every special length appears
    where the table has the rows: first the powers of two below n, largest first (a prefix of 2^k
    covers a whole first block of any power-of-two size up to 2^k, so a one-row table of a wide
    width still masks a 32768-entry block), then their neighbours 2^k - 1 and 2^k + 1, half the
    row and n - 1; then uniform."""
    powers = [2**k for k in range(int(math.log2(max(n - 1, 1))), -1, -1)]
    special = dict.fromkeys(powers + [m for p in powers for m in (p - 1, p + 1)] + [n // 2, n - 1])
    special = [m for m in special if 1 <= m <= n - 1]
    if not special:
        return np.zeros(rows, dtype=np.int64)
    head = np.resize(np.array(special, dtype=np.int64), min(rows, 2 * len(special)))
    return np.concatenate([head, rng.integers(1, n, rows - head.size)]) if rows > head.size else head


def mask_prefix(rng, rows, n):
    """The first m entries of each row -inf (left padding; a first block fully masked)."""
    x, m = _moderate(rng, rows, n), _mask_lengths(rng, rows, n)
    x[np.arange(n)[None, :] < m[:, None]] = -np.inf
    return x


def mask_suffix(rng, rows, n):
    """The last m entries of each row -inf (right padding)."""
    x, m = _moderate(rng, rows, n), _mask_lengths(rng, rows, n)
    x[np.arange(n)[None, :] >= (n - m)[:, None]] = -np.inf
    return x


def mask_block(rng, rows, n):
    """A contiguous block of m entries -inf, starting anywhere (a block-sparse mask)."""
    x, m = _moderate(rng, rows, n), _mask_lengths(rng, rows, n)
    start = (rng.random(rows) * (n - m + 1)).astype(np.int64)
    j = np.arange(n)[None, :]
    x[(j >= start[:, None]) & (j < (start + m)[:, None])] = -np.inf
    return x


def mask_causal(rng, rows, n):
    """Row r keeps the entries j <= r mod n (a causal attention triangle, repeated down the rows)."""
    x = _moderate(rng, rows, n)
    x[np.arange(n)[None, :] > (np.arange(rows) % n)[:, None]] = -np.inf
    return x


def _tie(k: int | None):
    def build(rng, rows, n):
        """The maximum taken by exactly k entries (k = n: every entry equal), the rest at least 0.25 below it."""
        top = rng.choice([0.0, 1.5, -3.0, 17.0, -20.0], size=(rows, 1))
        ties = n if k is None else min(k, n)
        x = top - rng.uniform(0.25, 20.0, (rows, n))
        at = np.argsort(rng.random((rows, n)), axis=1)[:, :ties]
        np.put_along_axis(x, at, np.broadcast_to(top, at.shape), axis=1)
        return x

    return build


def _binade_bounds(dtype: str) -> tuple[int, int]:
    """The exponents e of the dtype's normal binades [2^e, 2^(e+1)) below its largest value."""
    info = dt.finfo(dtype)
    return int(math.log2(float(info.smallest_normal))), int(math.floor(math.log2(float(info.max)))) - 1


def _binades(dtype: str):
    def magnitude(rng, rows, n):
        """The row's maximum in binade e (either sign), e cycling over every normal binade of the
        dtype (over the short tables together for float64); the other entries up to 4 below it."""
        low, high = _binade_bounds(dtype)
        count = high - low + 1
        # one binade per row; where a table has fewer rows than binades (float64: 2046), every
        # step-th binade from an offset that the width sets, so that odd and even widths share them out
        step = -(-count // rows)
        e = low + (np.arange(rows) * step + n) % count
        top = rng.choice([-1.0, 1.0], rows) * np.exp2(e + rng.uniform(0, 1, rows))
        return top[:, None] - rng.uniform(0, 4, (rows, n)) * (np.arange(n) > 0)

    def gap(rng, rows, n):
        """Gaps to the maximum in every binade: x_j = a - 2^(f_j) (1 + U), f_j cycling from 2^-10 up
        to the dtype's range, a moderate or offset maximum; entries that would pass -r_max are clipped."""
        _, high = _binade_bounds(dtype)
        f = np.resize(np.arange(-10, high), rows * n).reshape(rows, n)
        rng.permuted(f, axis=1, out=f)
        a = rng.choice([0.0, 5.0, -30.0, 1e3], size=(rows, 1))
        x = a - np.exp2(f + rng.uniform(0, 1, (rows, n)))
        x[:, 0] = a[:, 0]
        return np.maximum(x, -0.99 * float(dt.largest(dtype)))

    return magnitude, gap


def _moderate_only(rng, rows, n):
    """Well-scaled logits (every row of the table is checked: the regime is the row's place)."""
    return _moderate(rng, rows, n)


def _scaled_by(temperature: float):
    def build(rng, rows, n):
        """x = T z with z ~ N(0, 3^2) on an offset per row: gaps between logits of the order of T."""
        return temperature * (rng.choice([0.0, 5.0, -20.0], size=(rows, 1)) + rng.normal(0.0, 3.0, (rows, n)))

    return build


# --- the other inputs: (op, pattern, x, rng) -> {"targets": ..., "temperature": ...} ----------------


def default_inputs(op: str, pattern: str, x: np.ndarray, rng: np.random.Generator) -> dict:
    """Targets on an unmasked class of each row (K - 1 where it is unmasked, every fourth row), and
    temperature 3, which divides inexactly (the temperatures regime varies it): the other regimes'
    logits, up to near r_max, then meet a real division (an XLA fusion of x / T into softmax
    returned NaN for logits near r_max)."""
    from suite.ops import OPS

    names = OPS[op].inputs[1:]
    values = {}
    if "targets" in names:
        values["targets"] = _unmasked_targets(x, rng)
    if "temperature" in names:
        values["temperature"] = DEFAULT_TEMPERATURE
    return values


def _unmasked_targets(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    rows, n = x.shape
    finite = np.isfinite(x)
    noise = np.where(finite, rng.random((rows, n)), -1.0)
    targets = np.argmax(noise, axis=1)
    last = (np.arange(rows) % 4 == 0) & finite[:, -1]
    return np.where(last, n - 1, targets).astype(np.int64)


def _tail_targets(group: int | None):
    def inputs(op, pattern, x, rng):
        """Class ids in the last partial group of ``group`` classes (the last full group where K is a
        multiple), or K - 1 alone (group None): where a vectorised kernel reads its tail."""
        rows, n = x.shape
        if group is None:
            return {"targets": np.full(rows, n - 1, dtype=np.int64)}
        tail = n % group or group
        return {"targets": (n - 1 - rng.integers(0, min(tail, n), rows)).astype(np.int64)}

    return inputs


def _temperature_of(pattern: str) -> float:
    return float(pattern.split("=", 1)[1])


def _temperature_inputs(op, pattern, x, rng):
    return {"temperature": _temperature_of(pattern)}


# --- the regimes ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Regime:
    """A regime: its patterns (dtype -> {pattern: builder(rng, rows, n)}), the other inputs per
    pattern, and the size classes it is tabled at."""

    name: str
    statement: str
    patterns: Callable[[str], dict[str, Callable]]
    inputs: Callable[[str, str, np.ndarray, np.random.Generator], dict] = default_inputs
    size_classes: tuple[str, ...] = SIZE_CLASSES
    # The short widths it uses, where not all of SHORT_WIDTHS (None: all).
    short_widths: tuple[int, ...] | None = None
    # Rows past the emulated cap are the point (the tiles): one width, at TILE_ROWS, on an emulated device.
    tiles: bool = False


TEMPERATURES = (1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0, 1e3)
DEFAULT_TEMPERATURE = 3.0
TAIL_GROUPS = {"K - 1": None, "tail of 8": 8, "tail of 16": 16, "tail of 32": 32}


def _masks(dtype):
    return {"prefix": mask_prefix, "suffix": mask_suffix, "block": mask_block, "causal": mask_causal}


def _ties(dtype):
    return {"2-way tie": _tie(2), "3-way tie": _tie(3), "all equal": _tie(None)}


def _magnitudes(dtype):
    magnitude, gap = _binades(dtype)
    return {"max binade": magnitude, "gap binade": gap}


def _class_ids(dtype):
    return dict.fromkeys(TAIL_GROUPS, _moderate_only)


def _class_id_inputs(op, pattern, x, rng):
    return _tail_targets(TAIL_GROUPS[pattern])(op, pattern, x, rng)


def _tiles(dtype):
    return {"4097 rows": _moderate_only}


def _temperatures(dtype):
    return {f"T={t:g}": _scaled_by(t) for t in TEMPERATURES}


def _gradients(dtype):
    magnitude, _ = _binades(dtype)
    return {"max binade": magnitude, "prefix": mask_prefix}


REGIMES = {
    r.name: r
    for r in (
        Regime("masks", "masks as prefixes, suffixes, blocks and causal triangles", _masks),
        Regime("ties", "exact 2-way, 3-way and n-way ties for the maximum", _ties),
        Regime("binades", "every binade of the logits' magnitudes and of the gaps to the maximum", _magnitudes),
        Regime("class_ids", "class ids at K - 1 and in the last partial group of 8, 16 and 32", _class_ids, _class_id_inputs),
        Regime("tiles", "every row of a 4097-row batch: the first and last rows of tiles of 256, 1024 and 4096",
               _tiles, size_classes=("short",), short_widths=TILE_WIDTHS, tiles=True),
        Regime("temperatures", "temperatures from 1e-3 to 1e3, with gaps between logits of the order of T",
               _temperatures, _temperature_inputs, size_classes=("short", "medium")),
        # The backward passes: every binade of the maximum and prefix masks, at 3 and 33 classes of
        # 1024 rows (two widths: every backward pass is a compilation on JAX) and at 65537 rows of 3
        # (past a CUDA grid's 65535; a jitted VJP of softmax(x / t) gave NaN near bfloat16's r_max
        # at 65537 rows and not at 1024).
        Regime("gradients", "vector-Jacobian products on every binade of the maximum and on prefix masks, "
               "up to 65537 rows", _gradients, size_classes=("short", "many"), short_widths=(3, 33)),
    )
}


def tables(regime: Regime, op: str, dtype: str, *, budget: int, max_rows: int | None) -> Iterator[Table]:
    """The tables of ``regime`` for ``op`` in ``dtype``: one per (pattern, width), in size-class order."""
    for size_class in regime.size_classes:
        menu = widths(size_class, budget)
        if size_class == "short" and regime.short_widths is not None:
            menu = regime.short_widths
        if regime.tiles and max_rows is not None:  # every row is a kernel instance on an emulated device
            menu = menu[:1]
        for n in menu:
            rows = TILE_ROWS if regime.tiles else rows_for(size_class, n, budget, max_rows)
            for pattern, build in regime.patterns(dtype).items():
                rng = generator(f"{regime.name}:{pattern}", op, dtype, n)
                x = rounded(build(rng, rows, n), dtype)
                yield Table(regime.name, pattern, size_class, x, **regime.inputs(op, pattern, x, rng))
