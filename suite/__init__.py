"""softmax-suite: conformance and benchmark suite for the softmax family."""

__version__ = "0.1.0"
