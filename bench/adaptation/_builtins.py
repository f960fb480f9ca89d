"""Registers this package's built-in plug-ins by importing their modules (called by bench.load_builtins)."""

from __future__ import annotations


def load() -> None:
    """Import every built-in module of this package so that its decorators register it."""
    from bench.adaptation import (  # noqa: F401  (imported for their @adapter registrations)
        _generation,
        _language_modeling,
        _multiple_choice_joint,
        _multiple_choice_separate,
    )
