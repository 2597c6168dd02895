"""Adapters for the built-in implementations, one file per backend.

``broken/`` holds deliberately wrong implementations the suite must reject.
"""
