"""Deliberately wrong implementations: each must be rejected by the property its docstring names."""
