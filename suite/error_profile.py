"""Error profile for the certificate's plots: errors in ULPs against logit magnitude.

Independent of the properties (which stop at the first failing example), this
samples a fixed, seeded grid of rows whose logit magnitude ranges from 0.1 to
four times log(r_max) of the dtype, calls the implementation once per dtype,
and measures every output's error against the extended-precision oracle in
units in the last place of the output dtype. The result feeds the histogram
and the error-vs-magnitude plot; it does not decide the verdict.
"""
from __future__ import annotations

import warnings
import zlib

import numpy as np

from suite import dtypes as dt
from suite import oracle

ROWS = 96
CLASSES = 24
TEMPERATURE = 2.0
# ULP histogram bin edges: half an ULP (correctly rounded), then powers of two. The counts
# have one bin per pair of edges plus a last bin for wrongly non-finite outputs (inf or NaN).
HIST_EDGES = [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0, 1024.0, 2.0**16, 2.0**24]
DETERMINISTIC = ("softmax", "log_softmax", "logsumexp", "cross_entropy", "temperature_softmax")


def sample_inputs(op: str, dtype: str, seed: int):
    rng = np.random.default_rng([seed, zlib.crc32(f"{op}/{dtype}".encode())])
    top = min(4.0 * dt.log_largest(dtype), dt.largest(dtype) / 8)
    scales = np.exp(np.linspace(np.log(0.1), np.log(top), ROWS))
    x = rng.standard_normal((ROWS, CLASSES))
    x = x / np.max(np.abs(x), axis=1, keepdims=True) * scales[:, None]
    x = x.astype(dt.numpy_dtype(dtype))
    targets = rng.integers(0, CLASSES, ROWS).astype(np.int64)
    if op == "cross_entropy":
        return (x, targets), {}
    if op == "temperature_softmax":
        return (x, TEMPERATURE), {"axis": -1}
    return (x,), {"axis": -1}


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
    if op not in DETERMINISTIC:
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
    exact = oracle.evaluate(op, *args, **kwargs)
    if out.shape != exact.shape:
        return {"error": f"returned shape {out.shape}, expected {exact.shape}"}
    err = ulp_errors(out, exact, dtype)
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
    masked = np.where(judged, err, -np.inf)
    row_err = masked.max(axis=1) if masked.ndim == 2 else masked
    row_err = np.where(np.isneginf(row_err), 0.0, row_err)
    err = err[judged]
    if err.size == 0:
        return {"skipped": "no output with a normal exact value was sampled"}
    finite = err[np.isfinite(err)]
    bins = np.array(HIST_EDGES + [1e299, 1e301])
    counts, _ = np.histogram(np.where(np.isfinite(err), err, 1e300), bins=bins)
    return {
        "n": int(err.size),
        "max_ulp": float(err.max()),
        "p99_ulp": float(np.percentile(err, 99, method="higher")),
        "median_ulp": float(np.percentile(err, 50, method="higher")),
        "max_finite_ulp": float(finite.max()) if finite.size else None,
        "nonfinite": int(np.sum(~np.isfinite(err))),
        "excluded_subnormal": excluded,
        "hist_edges": HIST_EDGES,
        "hist_counts": [int(c) for c in counts],
        "magnitude": [float(m) for m in magnitude],
        "row_max_ulp": [float(e) for e in row_err],
    }
