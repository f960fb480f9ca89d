"""`contraction` ("do not" -> "don't") and `expansion` ("don't" -> "do not"), HELM's, from HELM's table.

The table and the matching are HELM 0.5.16's (after NL-Augmenter), so the text is HELM's: matches are found
case-insensitively, left to right, the first alternative of the table's order winning at a position (so
"can't've" expands to "cannot've", as in HELM). Where several contractions expand to the same words ("ain't" and
"isn't" to "is not"), contraction uses the last of them. Contraction only rewrites words followed by a space, so
the end of a sentence ("..., it is.") stays expanded.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from bench.augmentation._perturbation import Perturbation, perturbation
from bench.augmentation._text import match_case

CONTRACTIONS: tuple[tuple[str, str], ...] = (
    ("ain't", "is not"),
    ("aren't", "are not"),
    ("can't", "cannot"),
    ("can't've", "cannot have"),
    ("could've", "could have"),
    ("couldn't", "could not"),
    ("didn't", "did not"),
    ("doesn't", "does not"),
    ("don't", "do not"),
    ("hadn't", "had not"),
    ("hasn't", "has not"),
    ("haven't", "have not"),
    ("he'd", "he would"),
    ("he'd've", "he would have"),
    ("he'll", "he will"),
    ("he's", "he is"),
    ("how'd", "how did"),
    ("how'd'y", "how do you"),
    ("how'll", "how will"),
    ("how's", "how is"),
    ("I'd", "I would"),
    ("I'll", "I will"),
    ("I'm", "I am"),
    ("I've", "I have"),
    ("i'd", "i would"),
    ("i'll", "i will"),
    ("i'm", "i am"),
    ("i've", "i have"),
    ("isn't", "is not"),
    ("it'd", "it would"),
    ("it'll", "it will"),
    ("it's", "it is"),
    ("ma'am", "madam"),
    ("might've", "might have"),
    ("mightn't", "might not"),
    ("must've", "must have"),
    ("mustn't", "must not"),
    ("needn't", "need not"),
    ("oughtn't", "ought not"),
    ("shan't", "shall not"),
    ("she'd", "she would"),
    ("she'll", "she will"),
    ("she's", "she is"),
    ("should've", "should have"),
    ("shouldn't", "should not"),
    ("that'd", "that would"),
    ("that's", "that is"),
    ("there'd", "there would"),
    ("there's", "there is"),
    ("they'd", "they would"),
    ("they'll", "they will"),
    ("they're", "they are"),
    ("they've", "they have"),
    ("wasn't", "was not"),
    ("we'd", "we would"),
    ("we'll", "we will"),
    ("we're", "we are"),
    ("we've", "we have"),
    ("weren't", "were not"),
    ("what're", "what are"),
    ("what's", "what is"),
    ("when's", "when is"),
    ("where'd", "where did"),
    ("where's", "where is"),
    ("where've", "where have"),
    ("who'll", "who will"),
    ("who's", "who is"),
    ("who've", "who have"),
    ("why's", "why is"),
    ("won't", "will not"),
    ("would've", "would have"),
    ("wouldn't", "would not"),
    ("you'd", "you would"),
    ("you'd've", "you would have"),
    ("you'll", "you will"),
    ("you're", "you are"),
    ("you've", "you have"),
)
"""(contraction, expansion) pairs in HELM's order; the order decides which alternative of the regex wins."""

CONTRACTION_MAP: dict[str, str] = dict(CONTRACTIONS)
"""Contraction -> expansion."""

REVERSE_CONTRACTION_MAP: dict[str, str] = {expanded: contracted for contracted, expanded in CONTRACTIONS}
"""Expansion -> contraction (the last contraction of an expansion wins, in the place of the first)."""

_CONTRACT = re.compile(r"\b({})\b ".format("|".join(REVERSE_CONTRACTION_MAP)), flags=re.IGNORECASE | re.DOTALL)
_EXPAND = re.compile(r"\b({})\b".format("|".join(CONTRACTION_MAP)), flags=re.IGNORECASE | re.DOTALL)


def _lookup(table: dict[str, str], found: str) -> str:
    """The table's entry for `found` as written, else for its lower case (every key has a lower-case form)."""
    return table.get(found) or table[found.lower()]


def contract(text: str) -> str:
    """Every expansion of the table followed by a space contracted, in the case of the matched words."""
    return _CONTRACT.sub(lambda m: match_case(m.group(1), _lookup(REVERSE_CONTRACTION_MAP, m.group(1))) + " ", text)


def expand(text: str) -> str:
    """Every contraction of the table expanded, in the case of the matched contraction."""
    return _EXPAND.sub(lambda m: match_case(m.group(0), _lookup(CONTRACTION_MAP, m.group(0))), text)


@perturbation("contraction")
@dataclass(frozen=True)
class ContractionPerturbation(Perturbation):
    """Contracts every phrase of the table that a space follows: "She is a doctor, and I am" -> "She's a doctor,
    and I am"."""

    robustness = True

    def perturb(self, text: str, rng: random.Random) -> str:
        return contract(text)


@perturbation("expansion")
@dataclass(frozen=True)
class ExpansionPerturbation(Perturbation):
    """Expands every contraction of the table: "Don't worry, I'm here" -> "Do not worry, I am here"."""

    robustness = True

    def perturb(self, text: str, rng: random.Random) -> str:
        return expand(text)
