"""Which optional extra installs each module that suite/ imports beyond its core dependencies.

A plain ``pip install softmax-suite`` certifies NumPy targets; every other code path imports what
its extra brings, and says which extra to install when it is missing. tests/test_install_paths.py
checks this table against pyproject.toml and against every import in suite/.
"""
from __future__ import annotations

# import name -> the extra of pyproject.toml that installs it
EXTRA_OF_MODULE = {
    "torch": "torch",
    "jax": "jax",
    "jaxlib": "jax",
    "matplotlib": "reports",
    "numba": "fast",
    "llvmlite": "fast",
    "asv": "bench",
    "pytest": "test",
    "onnxruntime": "onnxruntime",
    "onnx": "onnxruntime",
    "tensorflow": "tensorflow",
    "openvino": "openvino",
    "tinygrad": "tinygrad",
    "paddle": "paddle",
    "mlx": "mlx",
    "triton": "triton",
    "liger_kernel": "liger",
}


def install_hint(module: str | None) -> str:
    """What to run when ``module`` (an import name, dotted or not) is missing."""
    top = (module or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(top)
    if extra is not None:
        return f"pip install 'softmax-suite[{extra}]'"
    return "pip install --force-reinstall softmax-suite (a core dependency is missing)"
