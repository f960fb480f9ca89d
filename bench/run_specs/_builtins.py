"""Registers this package's built-in plug-ins by importing their modules (called by bench.load_builtins)."""

from __future__ import annotations


def load() -> None:
    """Import every built-in module of this package so that its decorators register it."""
    from bench.run_specs import _classic, _code_and_toxicity, _generated, _qa  # noqa: F401
