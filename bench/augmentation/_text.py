"""Text helpers shared by word-replacing perturbations: phrase matching and keeping the case of what is replaced."""

from __future__ import annotations

import re
from collections.abc import Iterable


def match_case(source: str, replacement: str) -> str:
    """`replacement` written in the case of `source`: "HE" -> "SHE", "He" -> "She", "he" -> "she".

    A single capital letter ("I") only capitalises the first letter, so "I am" -> "I'm", not "I'M".
    """
    cased = [c for c in source if c.isalpha()]
    if len(cased) > 1 and all(c.isupper() for c in cased):
        return replacement.upper()
    if source[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str]:
    """A case-insensitive regex matching any of `phrases` as whole words, longest first.

    Spaces in a phrase match any run of whitespace, and an apostrophe matches a typographic one too, so
    "do not" finds "Do  not" and "don't" finds "don’t".
    """
    alternatives = []
    for phrase in sorted(set(phrases), key=lambda p: (-len(p), p)):
        words = [re.escape(w).replace("'", "['’]") for w in phrase.split()]
        alternatives.append(r"\s+".join(words))
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


def normalize_phrase(text: str) -> str:
    """Lower case, single spaces, plain apostrophes: the key under which a matched phrase is looked up."""
    return " ".join(text.lower().replace("’", "'").split())
