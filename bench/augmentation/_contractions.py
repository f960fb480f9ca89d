"""`contraction` ("do not" -> "don't") and `expansion` ("don't" -> "do not") from one fixed table.

Where a contraction has several expansions ("it's" is "it is" or "it has"), expansion takes the one in the
table; the table pairs each contraction with its commonest reading.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from bench.augmentation._perturbation import Perturbation, perturbation
from bench.augmentation._text import match_case, normalize_phrase, phrase_pattern

CONTRACTIONS: tuple[tuple[str, str], ...] = (
    ("are not", "aren't"),
    ("cannot", "can't"),
    ("could not", "couldn't"),
    ("did not", "didn't"),
    ("does not", "doesn't"),
    ("do not", "don't"),
    ("had not", "hadn't"),
    ("has not", "hasn't"),
    ("have not", "haven't"),
    ("he is", "he's"),
    ("I am", "I'm"),
    ("I have", "I've"),
    ("I will", "I'll"),
    ("is not", "isn't"),
    ("it is", "it's"),
    ("let us", "let's"),
    ("must not", "mustn't"),
    ("she is", "she's"),
    ("should not", "shouldn't"),
    ("that is", "that's"),
    ("there is", "there's"),
    ("they are", "they're"),
    ("they have", "they've"),
    ("they will", "they'll"),
    ("was not", "wasn't"),
    ("we are", "we're"),
    ("we have", "we've"),
    ("we will", "we'll"),
    ("were not", "weren't"),
    ("what is", "what's"),
    ("where is", "where's"),
    ("who is", "who's"),
    ("will not", "won't"),
    ("would not", "wouldn't"),
    ("you are", "you're"),
    ("you have", "you've"),
    ("you will", "you'll"),
)
"""(expanded, contracted) pairs; both columns are unique."""


def _replace_all(text: str, table: dict[str, str], patterns: tuple[re.Pattern[str], ...]) -> str:
    """Every match of each pattern in turn replaced by its entry in `table`, in the case of the matched text."""
    for pattern in patterns:
        text = pattern.sub(lambda m: match_case(m.group(0), table[normalize_phrase(m.group(0))]), text)
    return text


def _is_negation(expanded: str) -> bool:
    return expanded.endswith(" not") or expanded == "cannot"


_CONTRACT = {normalize_phrase(expanded): contracted for expanded, contracted in CONTRACTIONS}
_EXPAND = {normalize_phrase(contracted): expanded for expanded, contracted in CONTRACTIONS}
# Negations go first: in "they will not" the regex would otherwise find "they will" before "will not" and give
# "they'll not"; contracting the negation gives the commoner "they won't".
_CONTRACT_PATTERNS = (
    phrase_pattern(e for e in _CONTRACT if _is_negation(e)),
    phrase_pattern(e for e in _CONTRACT if not _is_negation(e)),
)
_EXPAND_PATTERNS = (phrase_pattern(_EXPAND),)


@perturbation("contraction")
@dataclass(frozen=True)
class ContractionPerturbation(Perturbation):
    """Contracts every phrase of the table, negations first: "I am sure it is not" -> "I'm sure it isn't"."""

    robustness = True

    def perturb(self, text: str, rng: random.Random) -> str:
        return _replace_all(text, _CONTRACT, _CONTRACT_PATTERNS)


@perturbation("expansion")
@dataclass(frozen=True)
class ExpansionPerturbation(Perturbation):
    """Expands every contraction of the table: "Don't worry, I'm here" -> "Do not worry, I am here"."""

    robustness = True

    def perturb(self, text: str, rng: random.Random) -> str:
        return _replace_all(text, _EXPAND, _EXPAND_PATTERNS)
