"""Correct but less accurate implementations: certified, graded below the best (self-tests)."""
