"""Exact-match family of text metrics: `fn(gold, pred) -> 0.0 or 1.0`, as HELM defines them.

An empty prediction scores 0 everywhere (HELM's `if not pred: return 0`), so a model that answers nothing
never matches an empty gold by accident.
"""

from __future__ import annotations

from bench.metrics._text_normalize import normalize_text


def exact_match(gold: str, pred: str) -> float:
    """1 when `pred` equals `gold` after stripping surrounding whitespace."""
    if not pred:
        return 0.0
    return float(gold.strip() == pred.strip())


def quasi_exact_match(gold: str, pred: str) -> float:
    """1 when `pred` equals `gold` after `normalize_text` (case, punctuation, articles, spaces)."""
    if not pred:
        return 0.0
    return float(normalize_text(gold) == normalize_text(pred))


def prefix_exact_match(gold: str, pred: str) -> float:
    """1 when the stripped `pred` starts with the stripped `gold` (the model may keep talking after it)."""
    if not pred:
        return 0.0
    return float(pred.strip().startswith(gold.strip()))


def quasi_prefix_exact_match(gold: str, pred: str) -> float:
    """1 when the normalized `pred` starts with the normalized `gold`."""
    if not pred:
        return 0.0
    return float(normalize_text(pred).startswith(normalize_text(gold)))
