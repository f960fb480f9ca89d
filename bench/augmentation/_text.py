"""HELM's rule for writing a replacement word in the case of the word it replaces."""

from __future__ import annotations


def match_case(source: str, replacement: str) -> str:
    """`replacement` in the case of `source`, exactly as HELM's `match_case` (so replaced text equals HELM's).

    Every character of `source` lower case (an empty `source` too): `replacement` in lower case; every character
    upper case: upper case; else a capital first character: `replacement.capitalize()` (the rest lowered);
    otherwise `replacement` unchanged. A character without case (an apostrophe, a digit) is neither lower nor
    upper case, so "I'm" counts as capitalised and "it's" as neither.
    """
    if all(c.islower() for c in source):
        return replacement.lower()
    if all(c.isupper() for c in source):
        return replacement.upper()
    if source and source[0].isupper():
        return replacement.capitalize()
    return replacement
