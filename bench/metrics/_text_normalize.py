"""Answer normalization shared by the "quasi" metrics and F1, exactly as HELM and the SQuAD script do it."""

from __future__ import annotations

import re
import string

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = frozenset(string.punctuation)


def normalize_text(text: str) -> str:
    """Lowercase, drop ASCII punctuation, drop the articles a/an/the, collapse whitespace.

    The order matters and follows HELM/SQuAD: punctuation goes before articles, so "the-cat" becomes
    "thecat" (not "cat").
    """
    lowered = text.lower()
    without_punctuation = "".join(ch for ch in lowered if ch not in _PUNCTUATION)
    without_articles = _ARTICLES.sub(" ", without_punctuation)
    return " ".join(without_articles.split())
