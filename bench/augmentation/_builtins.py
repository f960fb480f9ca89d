"""Registers this package's built-in plug-ins by importing their modules (called by bench.load_builtins)."""

from __future__ import annotations


def load() -> None:
    """Import every built-in perturbation module, then register the presets (one per perturbation too)."""
    from bench.augmentation import (
        _contractions,  # noqa: F401
        _dialect,  # noqa: F401
        _filler_words,  # noqa: F401
        _gender,  # noqa: F401
        _mild_mix,  # noqa: F401
        _misspellings,  # noqa: F401
        _person_name,  # noqa: F401
        _simple_perturbations,  # noqa: F401
        _typos,  # noqa: F401
    )
    from bench.augmentation._presets import register_perturbation_presets

    register_perturbation_presets()
