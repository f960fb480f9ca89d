"""`gender`: swaps gendered pronouns (or terms) from one gender to the other, in input and references.

"her" reads as "him" or "his" and "his" as "her" or "hers" depending on what follows; the choice is a small
heuristic: a possessive determiner is followed by a content word ("her book" -> "his book"), the other reading
by punctuation, the end of the text, or a function word ("told her that" -> "told him that").
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from bench.augmentation._perturbation import Perturbation, check_choice, check_probability, perturbation
from bench.augmentation._text import match_case, phrase_pattern

GENDERS = ("male", "female")
MODES = ("pronouns", "terms")

GENDERED_TERMS: tuple[tuple[str, str], ...] = (
    ("man", "woman"),
    ("men", "women"),
    ("boy", "girl"),
    ("boys", "girls"),
    ("father", "mother"),
    ("fathers", "mothers"),
    ("dad", "mom"),
    ("son", "daughter"),
    ("sons", "daughters"),
    ("brother", "sister"),
    ("brothers", "sisters"),
    ("husband", "wife"),
    ("husbands", "wives"),
    ("uncle", "aunt"),
    ("uncles", "aunts"),
    ("nephew", "niece"),
    ("nephews", "nieces"),
    ("grandfather", "grandmother"),
    ("grandson", "granddaughter"),
    ("boyfriend", "girlfriend"),
    ("gentleman", "lady"),
    ("gentlemen", "ladies"),
    ("king", "queen"),
    ("kings", "queens"),
    ("prince", "princess"),
    ("male", "female"),
    ("males", "females"),
)
"""(male, female) nouns, swapped in "terms" mode; both columns are unique."""

_FUNCTION_WORDS = frozenset(
    # One string keeps the list readable; a list literal would take a line per word.
    """a an the and or but nor so yet to in on at by for from with without about into onto of off over under up
    down out after before as than that this these those if when while because is was are were be been will would
    can could should not again too also very now then there here today yesterday tomorrow back away home just
    since until through around""".split()  # noqa: SIM905
)
"""Words after which "her" is an object ("him") and "his" stands alone ("hers")."""

_NEXT_WORD = re.compile(r"\s*([A-Za-z]+)")

_FIXED_PRONOUNS = {
    "male": {"he": "she", "him": "her", "himself": "herself"},
    "female": {"she": "he", "hers": "his", "herself": "himself"},
}
"""Source gender -> pronouns whose swap does not depend on context."""


def _next_word_is_content(text: str, end: int) -> bool:
    """Whether the word right after position `end` exists and is not a function word."""
    match = _NEXT_WORD.match(text, end)
    return match is not None and match.group(1).lower() not in _FUNCTION_WORDS


def _swap_pronoun(word: str, source: str, text: str, end: int) -> str:
    """The pronoun of the other gender for `word` (lower case), reading the context for his/her."""
    if source == "male" and word == "his":
        return "her" if _next_word_is_content(text, end) else "hers"
    if source == "female" and word == "her":
        return "his" if _next_word_is_content(text, end) else "him"
    return _FIXED_PRONOUNS[source][word]


def _pronoun_words(source: str) -> list[str]:
    extra = "his" if source == "male" else "her"
    return [*_FIXED_PRONOUNS[source], extra]


_PRONOUN_PATTERNS = {source: phrase_pattern(_pronoun_words(source)) for source in GENDERS}
_TERMS = {
    "male": {male: female for male, female in GENDERED_TERMS},
    "female": {female: male for male, female in GENDERED_TERMS},
}
_TERM_PATTERNS = {source: phrase_pattern(_TERMS[source]) for source in GENDERS}


@perturbation("gender")
@dataclass(frozen=True)
class GenderPerturbation(Perturbation):
    """Each gendered pronoun (mode "pronouns") or noun (mode "terms") of `source` gender is replaced, with
    probability `prob`, by its `target` counterpart, keeping its case: "He lost his keys" -> "She lost her keys".
    """

    mode: str = "pronouns"
    source: str = "male"
    target: str = "female"
    prob: float = 1.0

    fairness = True
    perturbs_references = True

    def __post_init__(self) -> None:
        check_choice(self.name, "mode", self.mode, MODES)
        check_choice(self.name, "source", self.source, GENDERS)
        check_choice(self.name, "target", self.target, tuple(g for g in GENDERS if g != self.source))
        check_probability(self.name, "prob", self.prob)

    def perturb(self, text: str, rng: random.Random) -> str:
        pattern = (_PRONOUN_PATTERNS if self.mode == "pronouns" else _TERM_PATTERNS)[self.source]
        return pattern.sub(lambda match: self._replace(match, rng), text)

    def _replace(self, match: re.Match[str], rng: random.Random) -> str:
        found = match.group(0)
        if rng.random() >= self.prob:
            return found
        word = found.lower()
        if self.mode == "pronouns":
            swapped = _swap_pronoun(word, self.source, match.string, match.end())
        else:
            swapped = _TERMS[self.source][word]
        return match_case(found, swapped)
