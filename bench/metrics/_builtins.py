"""Registers this package's built-in plug-ins by importing their modules (called by bench.load_builtins)."""

from __future__ import annotations


def load() -> None:
    """Import every built-in module of this package so that its decorators register it."""
    from bench.metrics import (  # noqa: F401  (imported for their @metric registrations)
        _basic,
        _calibration,
        _code,
        _copyright,
        _dry_run,
        _efficiency,
        _language_modeling,
        _reference_match,
        _toxicity,
    )
