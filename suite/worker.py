"""The child process that runs the implementation under test: ``python -m suite.worker``.

Protocol: one JSON request per line on stdin, one JSON reply per line on the
protocol channel (the process's original stdout; the target's own prints are
redirected to stderr so they cannot corrupt it). Requests:

  {"cmd": "load", "adapter": DESC[, "op": OP]}
      -> {"ok": true, "info": {...}}   (with OP on an emulated device: the measured cost of a call, call_cost) | {"usage_error": "..."} | {"error": "..."}
  {"cmd": "property", "adapter": DESC, "op", "property", "dtype", "profile", "seed"[, "classes", "rows"]}
      -> {"ok": true, "outcome": {...Outcome fields...}}
  {"cmd": "accuracy", "adapter": DESC, "op", "dtype", "seed"}
      -> {"ok": true, "accuracy": {...}}
  {"cmd": "call", "adapter": DESC, "op", "inputs": BASE64_NPZ, "kwargs": {...}}
      -> {"ok": true, "raised": "..." or ""}   (one call, for shrinking a crash: suite.crash_shrink)
  {"cmd": "speed", "adapter": DESC, "op", "dtype", "shapes": ["RxC", ...]}
      -> {"ok": true, "speed": {...suite.speed_section.measure...}}
  {"cmd": "speed", "adapter": DESC, "op", "dtype", "shapes": [...], "sizes": true}
      -> {"ok": true, "speed": {...suite.speed_section.measure_sizes...}}

DESC rebuilds the adapter in this process: {"builtin": NAME} or
{"target": SPEC, "op": OP, "backend": B, "device": D}. Before every call into
the implementation the worker pickles the call's arguments (as NumPy arrays) to
the file named by SOFTMAX_SUITE_LAST_CALL, so that when the call segfaults or
hangs the parent can still report the input that did it. Timing (``speed``) calls
the unrecorded adapter, since pickling a 128 MiB input per call would be what is
timed; it names the (shape, path) it is timing on stderr instead.
"""
from __future__ import annotations

import dataclasses
import faulthandler
import json
import os
import pickle
import sys
from typing import Any

LAST_CALL_ENV = "SOFTMAX_SUITE_LAST_CALL"


def desc_key(desc: dict) -> str:
    return json.dumps(desc, sort_keys=True)


def build_adapter(desc: dict):
    from suite.adapter import builtin, load_target

    if "builtin" in desc:
        adapter = builtin(desc["builtin"])
        reason = adapter.unavailable_reason()
        if reason is not None:
            from suite.adapter import UsageError

            raise UsageError(f"implementation {adapter.name!r} is not usable here: {reason}")
        _emulate(adapter.backend, adapter.device)  # before its kernels are built, at their first call
        return adapter
    _emulate(desc.get("backend", "numpy"), desc.get("device", "cpu"))  # before the target is imported
    return load_target(desc["target"], desc["op"], desc.get("backend", "numpy"), desc.get("device", "cpu"),
                       forward_only=desc.get("forward_only", False))


def _emulate(backend: str, device: str) -> None:
    """Set an emulated device's environment (TRITON_INTERPRET=1) in this process; the pool gives
    such an adapter a worker of its own (suite.isolation), so no other adapter sees it."""
    from suite import backends

    emulation = backends.emulated(backend, device)
    if emulation is not None:
        os.environ.update(emulation.env)


def call_cost(adapter, op: str, rows: int = 128, classes: int = 64) -> dict:
    """The measured seconds of one call of ``op`` on ``rows`` float32 rows (after a first call
    that builds the kernels), and per row: reported beside the sizes left out on an emulated
    device, never used to choose them (a verdict must not depend on a timing)."""
    import time

    import numpy as np

    from suite.ops import OPS

    values = {"targets": np.zeros(rows, dtype=np.int64), "temperature": 1.0, "tau": 1.0, "num_samples": 1, "seed": 0}
    x = np.random.default_rng(0).standard_normal((rows, classes)).astype(np.float32)
    args, kwargs = OPS[op].arguments(x, -1, **values)
    args = [adapter.from_numpy(a) if isinstance(a, np.ndarray) else a for a in args]
    try:
        adapter.ops[op](*args, **kwargs)
        start = time.perf_counter()
        adapter.ops[op](*args, **kwargs)
        seconds = time.perf_counter() - start
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:300]}
    return {"rows": rows, "classes": classes, "seconds": round(seconds, 4), "seconds_per_row": seconds / rows}


def target_package_version(desc: dict) -> dict[str, str]:
    """{distribution: version} of the installed package that provides a target's module, if any."""
    from importlib import metadata

    where = desc.get("target", "").rpartition(":")[0]
    if not where or where.endswith(".py") or "/" in where:
        return {}
    top = where.split(".")[0]
    found = {}
    for name in metadata.packages_distributions().get(top, []):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def _recording(adapter, path: str | None):
    """The adapter with every op wrapped to record its arguments before the call."""
    if not path:
        return adapter

    def wrap(op, fn):
        def recorded(*args, **kwargs):
            try:
                plain = []
                for a in args:
                    try:
                        plain.append(adapter.to_numpy(a) if adapter.is_native(a) else a)
                    except Exception:
                        plain.append(repr(a))
                blob = pickle.dumps((op, plain, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
                with open(path, "wb") as fh:
                    fh.write(blob)
            except Exception:
                pass
            return fn(*args, **kwargs)

        return recorded

    return dataclasses.replace(adapter, ops={op: wrap(op, fn) for op, fn in adapter.ops.items()})


class Worker:
    def __init__(self) -> None:
        self.adapters: dict[str, Any] = {}
        self.last_call = os.environ.get(LAST_CALL_ENV)

    def adapter(self, desc: dict):
        key = desc_key(desc)
        if key not in self.adapters:
            self.adapters[key] = _recording(build_adapter(desc), self.last_call)
        return self.adapters[key]

    def handle(self, request: dict) -> dict:
        from suite import backends
        from suite.adapter import UsageError

        cmd = request.get("cmd")
        try:
            if cmd == "load":
                adapter = self.adapter(request["adapter"])
                # Import the suite's side now, so that no property's time limit pays for it.
                from suite.properties import all_properties
                import suite.error_profile  # noqa: F401
                import suite.runner  # noqa: F401

                all_properties()
                try:
                    versions = dict(adapter.versions()) | target_package_version(request["adapter"])
                except Exception as exc:  # a backend that fails to import is not usable
                    return {"error": f"backend failed to import: {type(exc).__name__}: {exc}"}
                info = {}
                if backends.emulated(adapter.backend, adapter.device) is not None and request.get("op") in adapter.ops:
                    info["call_cost"] = call_cost(self.plain_adapter(request["adapter"]), request["op"])
                return {
                    "ok": True,
                    "info": {
                        "name": adapter.name,
                        "backend": adapter.backend,
                        "device": adapter.device,
                        "dtypes": list(adapter.dtypes),
                        "differentiable": adapter.differentiable,
                        "forward_only": adapter.forward_only,
                        "options": {op: sorted(names) for op, names in adapter.options.items()},
                        "ops": sorted(adapter.ops),
                        "description": adapter.description,
                        "origin": adapter.origin,
                        "versions": versions,
                    } | info,
                }
            if cmd == "property":
                return {"ok": True, "outcome": self.run_property(request)}
            if cmd == "accuracy":
                from suite.error_profile import measure

                adapter = self.adapter(request["adapter"])
                return {"ok": True, "accuracy": measure(adapter, request["op"], request["dtype"], request.get("seed", 0))}
            if cmd == "call":
                import numpy as np

                from suite.crash_shrink import decode

                adapter = self.adapter(request["adapter"])
                args = [adapter.from_numpy(a) if isinstance(a, np.ndarray) else a for a in decode(request["inputs"])]
                try:
                    adapter.ops[request["op"]](*args, **request.get("kwargs", {}))
                except Exception as exc:  # an exception is not a crash: the candidate does not reproduce it
                    return {"ok": True, "raised": f"{type(exc).__name__}: {exc}"}
                return {"ok": True, "raised": ""}
            if cmd == "speed":
                return {"ok": True, "speed": self.measure_speed(request)}
            if cmd == "ping":
                return {"ok": True}
            return {"error": f"unknown command {cmd!r}"}
        except UsageError as exc:
            return {"usage_error": str(exc)}
        except Exception as exc:
            from suite.runner import suite_error_message

            head, _, rest = suite_error_message(exc).partition("\n")
            return {"error": head.removeprefix("suite error "), "traceback": rest}

    def plain_adapter(self, desc: dict):
        """The adapter without the call recording (for timing)."""
        key = "plain " + desc_key(desc)
        if key not in self.adapters:
            self.adapters[key] = build_adapter(desc)
        return self.adapters[key]

    def measure_speed(self, request: dict) -> dict:
        from suite import speed_section

        adapter = self.plain_adapter(request["adapter"])
        op, dtype = request["op"], request["dtype"]
        baseline = None
        name = speed_section.baseline_name(adapter.backend, adapter.device)
        if name is not None and name != adapter.name:
            candidate = self.plain_adapter({"builtin": name})
            if op in candidate.ops and dtype in candidate.dtypes:
                baseline = candidate
        if request.get("sizes"):  # speed across sizes: the kernel-scale menus, no baseline
            return speed_section.measure_sizes(adapter, op, dtype, announce=speed_section.announce_on_stderr)
        return speed_section.measure(adapter, op, dtype, request["shapes"], baseline, announce=speed_section.announce_on_stderr)

    def run_property(self, request: dict) -> dict:
        from suite import backends
        from suite.profiles import certification_settings
        from suite.properties import all_properties
        from suite.runner import run_property, shrink_limit_for
        from suite.sizes import plan_for

        adapter = self.adapter(request["adapter"])
        prop = all_properties()[request["property"]]
        profile = request.get("profile", "ci")
        settings = certification_settings(profile)
        plan = plan_for(profile, request.get("classes", ()), request.get("rows", ()), emulated=backends.emulated(adapter.backend, adapter.device))
        outcome = run_property(
            prop, adapter, request["op"], request["dtype"], settings=settings, seed=request.get("seed"), sizes=plan,
            shrink_limit=shrink_limit_for(profile), avoid=request.get("avoid", ()),
        )
        return _plain(dataclasses.asdict(outcome))


def _plain(value):
    """JSON-safe: non-finite floats become the strings "inf", "-inf", "nan"; arrays become lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return _plain(value.tolist())
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return value
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


def main() -> int:
    # The protocol channel is a private copy of stdout; fd 1 becomes stderr so that
    # anything the implementation prints lands in the captured log instead.
    channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    faulthandler.enable(all_threads=False)
    import warnings

    warnings.simplefilter("ignore")
    worker = Worker()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        request = json.loads(line)
        if request.get("cmd") == "exit":
            break
        reply = worker.handle(request)
        channel.write(json.dumps(_plain(reply)) + "\n")
        channel.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
