"""Registers this package's built-in plug-ins by importing their modules (called by bench.load_builtins)."""

from __future__ import annotations


def load() -> None:
    """Import every built-in module of this package so that its decorators register it."""
    from bench.scenarios import (  # noqa: F401
        _babi_qa,
        _boolq,
        _commonsense_qa,
        _copyright,
        _dyck,
        _humaneval,
        _lpm,
        _mmlu,
        _narrative_qa,
        _natural_qa,
        _numeracy,
        _quac,
        _raft,
        _real_toxicity_prompts,
        _simple,
        _synthetic_reasoning,
        _the_pile,
        _twitter_aae,
        _wiki_fact,
    )
