"""Error profile for the certificate and the matrix: errors against logit magnitude.

Independent of the properties (which stop at the first failing example), this
samples a fixed, seeded grid of rows whose logit magnitude ranges from 0.1 to
four times log(r_max) of the dtype, calls the implementation once per dtype,
and measures every output against the extended-precision oracle in three ways:

- ``bound_used``: |out - exact| / the componentwise bound of suite/bounds.py,
  the fraction of what the input permits that the implementation used, with
  the rounding of x - max(x) to the dtype excused as below. This ranks
  implementations on the same inputs. (Without the excuse, ``bound_used_plain``,
  the largest values come from rows of large logits where that one rounding,
  the same in every shifted implementation, fills a fixed share of the bound.)
- ``ulp_mixed``: ULPs of the output dtype with the rounding of x - max(x) to
  the dtype excused (the measure ulp_accuracy grades on), min(err against
  f(x), err against f(fl(x - max x))).
- ``ulp``: plain ULPs against f(x). On large logits this is the conditioning of
  the shifted algorithm (the rounding of x - max(x)), the same for every
  implementation; it feeds the histogram and the plots.

An output that is NaN or infinite where the exact value is finite is counted
(``nonfinite``) with its first example; it makes every maximum inf. The
profile does not decide the verdict.
"""
from __future__ import annotations

import warnings
import zlib

import numpy as np

from suite import dtypes as dt
from suite.ops import OPS

ROWS = 96
CLASSES = 24
TEMPERATURE = 2.0
# ULP histogram bin edges: half an ULP (correctly rounded), then powers of two. The counts
# have one bin per pair of edges plus a last bin for wrongly non-finite outputs (inf or NaN).
HIST_EDGES = [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0, 1024.0, 2.0**16, 2.0**24]


def sample_inputs(op: str, dtype: str, seed: int):
    rng = np.random.default_rng([seed, zlib.crc32(f"{op}/{dtype}".encode())])
    top = min(4.0 * dt.log_largest(dtype), dt.largest(dtype) / 8)
    scales = np.exp(np.linspace(np.log(0.1), np.log(top), ROWS))
    x = rng.standard_normal((ROWS, CLASSES))
    x = x / np.max(np.abs(x), axis=1, keepdims=True) * scales[:, None]
    x = x.astype(dt.numpy_dtype(dtype))
    targets = rng.integers(0, CLASSES, ROWS).astype(np.int64)
    return OPS[op].arguments(x, -1, targets=targets, temperature=TEMPERATURE)


def ulp_errors(out: np.ndarray, exact: np.ndarray, dtype: str) -> np.ndarray:
    """|out - exact| in ULPs of ``dtype`` at the exact value; inf where out is wrongly non-finite."""
    wide = np.longdouble
    out_w = np.asarray(out).astype(np.float64).astype(wide)
    exact = np.asarray(exact, dtype=wide)
    p = dt.significand_bits(dtype)
    tiny = wide(dt.smallest_subnormal(dtype))
    with np.errstate(all="ignore"):
        mag = np.abs(exact)
        expo = np.floor(np.log2(np.where(mag > 0, mag, 1)))
        ulp = np.maximum(np.exp2(expo - (p - 1)), tiny)
        err = np.abs(out_w - exact) / ulp
        same_special = (np.isnan(out_w) & np.isnan(exact)) | (np.isinf(exact) & (out_w == exact))
        err = np.where(same_special, 0, err)
        err = np.where(np.isfinite(err), err, np.inf)
    return err.astype(np.float64)


def measure(adapter, op: str, dtype: str, seed: int = 0) -> dict:
    if OPS[op].sampler:
        return {"skipped": f"{op} is a sampler; it has no pointwise reference value"}
    args, kwargs = sample_inputs(op, dtype, seed)
    native = [adapter.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            result = adapter.ops[op](*native, **kwargs)
    except Exception as exc:
        return {"error": f"raised {type(exc).__name__}: {exc}"}
    if not adapter.is_native(result):
        return {"error": f"returned {type(result).__name__}, expected {adapter.native_type}"}
    out = adapter.to_numpy(result)
    exact = OPS[op].oracle(*args, **kwargs)
    if out.shape != exact.shape:
        return {"error": f"returned shape {out.shape}, expected {exact.shape}"}
    err = ulp_errors(out, exact, dtype)
    shifted = _shift_rounded_exact(op, args, kwargs, dtype)
    mixed = np.minimum(err, ulp_errors(out, shifted, dtype))
    bound = _bound(op, args, kwargs, dtype)
    used_plain = bound_used(out, exact, bound, dtype)
    used = np.minimum(used_plain, bound_used(out, shifted, bound, dtype))
    nonfinite, example = _nonfinite(out, exact, args, dtype)
    # Judge only outputs whose exact value is a normal number (as ulp_accuracy does): in the
    # subnormal range a flush to zero is a behaviour (subnormal_outputs), not a 10^15-ULP error.
    try:
        from suite.ulp import normal_outputs

        judged = np.asarray(normal_outputs(exact, dtype), dtype=bool)
    except Exception:
        judged = np.abs(np.asarray(exact, dtype=np.longdouble)) >= dt.smallest_normal(dtype)
    excluded = int(np.sum(~judged))
    x = args[0]
    magnitude = np.max(np.abs(x.astype(np.float64)), axis=1)
    row_err, row_mixed = _row_max(err, judged), _row_max(mixed, judged)
    err, mixed, used, used_plain = err[judged], mixed[judged], used[judged], used_plain[judged]
    if err.size == 0:
        return {"skipped": "no output with a normal exact value was sampled"}
    finite = err[np.isfinite(err)]
    bins = np.array(HIST_EDGES + [1e299, 1e301])
    counts, _ = np.histogram(np.where(np.isfinite(err), err, 1e300), bins=bins)
    return {
        "n": int(err.size),
        "max_bound_used": float(used.max()),
        "p99_bound_used": float(np.percentile(used, 99, method="higher")),
        "max_bound_used_plain": float(used_plain.max()),
        "max_ulp_mixed": float(mixed.max()),
        "p99_ulp_mixed": float(np.percentile(mixed, 99, method="higher")),
        "max_ulp": float(err.max()),
        "p99_ulp": float(np.percentile(err, 99, method="higher")),
        "median_ulp": float(np.percentile(err, 50, method="higher")),
        "max_finite_ulp": float(finite.max()) if finite.size else None,
        "nonfinite": nonfinite,
        "nonfinite_example": example,
        "excluded_subnormal": excluded,
        "hist_edges": HIST_EDGES,
        "hist_counts": [int(c) for c in counts],
        "magnitude": [float(m) for m in magnitude],
        "row_max_ulp": [float(e) for e in row_err],
        "row_max_ulp_mixed": [float(e) for e in row_mixed],
    }


def _row_max(err: np.ndarray, judged: np.ndarray) -> np.ndarray:
    """Each row's largest error over its judged outputs (0 for a row with none)."""
    masked = np.where(judged, err, -np.inf)
    row = masked.max(axis=1) if masked.ndim == 2 else masked
    return np.where(np.isneginf(row), 0.0, row)


def _shift_rounded_exact(op: str, args: tuple, kwargs: dict, dtype: str) -> np.ndarray:
    """The exact result for fl(x - max x), as ulp_accuracy excuses it."""
    from suite.cases import Case
    from suite.properties.accuracy import _shift_rounded_exact as shifted

    return shifted(Case.from_call(op, args, kwargs), dt.numpy_dtype(dtype))


def _bound(op: str, args: tuple, kwargs: dict, dtype: str) -> np.ndarray:
    return OPS[op].bound(*args, dtype=dtype, **kwargs)


def bound_used(out: np.ndarray, exact: np.ndarray, bound: np.ndarray, dtype: str) -> np.ndarray:
    """|out - exact| / bound elementwise: 0 where equal, inf where out is wrongly non-finite
    (both sides saturated at the dtype's overflow threshold, as assert_within compares them)."""
    from suite.ulp import saturate

    g = np.asarray(out).astype(np.float64).astype(np.longdouble)
    e = saturate(exact, dtype)
    b = np.broadcast_to(np.asarray(bound, dtype=np.longdouble), e.shape)
    with np.errstate(all="ignore"):
        same = (g == e) | (np.isnan(g) & np.isnan(e))
        used = np.where(np.isfinite(g) & np.isfinite(e), np.abs(g - e) / b, np.inf)
        used = np.where(same, 0, np.where(np.isnan(used), np.inf, used))
    return used.astype(np.float64)


def _nonfinite(out: np.ndarray, exact: np.ndarray, args: tuple, dtype: str) -> tuple[int, dict | None]:
    """How many outputs are NaN or infinite where the exact value is finite, and the first one."""
    from suite.runner import format_array
    from suite.ulp import saturate

    with np.errstate(invalid="ignore"):
        bad = np.isfinite(saturate(exact, dtype)) & ~np.isfinite(np.asarray(out).astype(np.float64))
    if not np.any(bad):
        return 0, None
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    x = args[0]
    return int(bad.sum()), {
        "row": index[0],
        "index": list(index),
        "x": format_array(x[index[0] : index[0] + 1]),
        "expected": repr(float(np.asarray(exact, dtype=np.float64)[index])),
        "got": repr(float(np.asarray(out).astype(np.float64)[index])),
    }
