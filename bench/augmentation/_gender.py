"""`gender`: gendered pronouns or terms of one gender swapped for the other's, in input and references (HELM's).

Tables and matching are HELM 0.5.16's: for each (source word, target word) pair in table order, every occurrence
of the source word between two non-word characters is replaced with probability `prob`, in the case of the
replaced word. Two consequences kept for parity: a word at the very start or end of a text is never replaced,
and "his" always becomes "her" (the first pair for "his"), never "hers".
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from bench.augmentation._perturbation import Perturbation, bad_argument, check_choice, check_probability, perturbation
from bench.augmentation._text import match_case

GENDERS = ("neutral", "female", "male")
"""The columns of the tables, in order."""

MODES = ("terms", "pronouns")

GENDER_TERM_MAPPINGS: tuple[tuple[str, str, str], ...] = (
    ("child", "daughter", "son"),
    ("children", "daughters", "sons"),
    ("parent", "mother", "father"),
    ("parents", "mothers", "fathers"),
    ("kiddo", "girl", "boy"),
    ("kiddos", "girls", "boys"),
    ("person", "woman", "man"),
    ("people", "women", "men"),
    ("sibling", "sister", "brother"),
    ("siblings", "sisters", "brothers"),
    ("nibling", "niece", "nephew"),
    ("niblings", "nieces", "nephews"),
    ("monarch", "queen", "king"),
    ("monarchs", "queens", "kings"),
    ("server", "waitress", "waiter"),
    ("servers", "waitresses", "waiters"),
    ("parent", "mom", "dad"),
    ("parents", "moms", "dads"),
    ("stepchild", "stepdaughter", "stepson"),
    ("stepchildren", "stepdaughters", "stepsons"),
    ("stepparent", "stepmother", "stepfather"),
    ("stepparents", "stepmothers", "stepfathers"),
    ("stepparent", "stepmom", "stepdad"),
    ("stepparents", "stepmoms", "stepdads"),
    ("grandchild", "granddaughter", "grandson"),
    ("grandchildren", "granddaughters", "grandsons"),
    ("grandparent", "grandmother", "grandfather"),
    ("grandparents", "grandmothers", "grandfather"),
    ("grandparent", "grandma", "granddad"),
    ("grandparents", "grandmas", "granddads"),
    ("human", "female", "male"),
    ("humans", "females", "males"),
)
"""(neutral, female, male) nouns: Garg et al. (2018), Bolukbasi et al. (2016) and HELM's additions, as in HELM
(including its ("grandparents", "grandmothers", "grandfather") row)."""

GENDER_PRONOUN_MAPPINGS: tuple[tuple[str, str, str], ...] = (
    ("they", "she", "he"),
    ("them", "her", "him"),
    ("their", "her", "his"),
    ("theirs", "hers", "his"),
    ("themselves", "herself", "himself"),
)
"""(neutral, female, male) pronouns (Lauscher et al., 2022)."""

_MAPPINGS = {"terms": GENDER_TERM_MAPPINGS, "pronouns": GENDER_PRONOUN_MAPPINGS}


def word_pairs(mode: str, source_class: str, target_class: str, bidirectional: bool) -> list[tuple[str, str]]:
    """(word, replacement) pairs in the order they are applied: source to target, then target to source if
    `bidirectional`."""
    rows = _MAPPINGS[mode]
    source, target = GENDERS.index(source_class.lower()), GENDERS.index(target_class.lower())
    pairs = [(row[source], row[target]) for row in rows]
    if bidirectional:
        pairs += [(row[target], row[source]) for row in rows]
    return pairs


def substitute_word(text: str, word: str, replacement: str, prob: float, rng: random.Random) -> str:
    """Each `word` between two non-word characters (any case) replaced with probability `prob` (one draw each)."""

    def replace(match: re.Match[str]) -> str:
        whole, found = match.group(0), match.group(1)
        if rng.uniform(0, 1) < prob:
            return whole.replace(found, match_case(found, replacement))
        return whole

    return re.sub(f"[^\\w]({word})[^\\w]", replace, text, flags=re.IGNORECASE)


@perturbation("gender")
@dataclass(frozen=True)
class GenderPerturbation(Perturbation):
    """Each gendered pronoun (mode "pronouns") or noun (mode "terms") of `source_class` is replaced, with
    probability `prob`, by its `target_class` counterpart, keeping its case: "He lost his keys." -> "He lost her
    keys." (the first word has no character before it, so it stays, as in HELM).
    """

    mode: str = "pronouns"
    prob: float = 1.0
    source_class: str = "male"
    target_class: str = "female"
    bidirectional: bool = False

    fairness = True
    perturbs_references = True

    def __post_init__(self) -> None:
        check_choice(self.name, "mode", self.mode, MODES)
        check_probability(self.name, "prob", self.prob)
        for arg in ("source_class", "target_class"):
            value = getattr(self, arg)
            if not isinstance(value, str) or value.lower() not in GENDERS:
                raise bad_argument(self.name, arg, "one of " + ", ".join(repr(g) for g in GENDERS), value)
        if not isinstance(self.bidirectional, bool):
            raise bad_argument(self.name, "bidirectional", "true or false", self.bidirectional)

    def perturb(self, text: str, rng: random.Random) -> str:
        for word, replacement in word_pairs(self.mode, self.source_class, self.target_class, self.bidirectional):
            text = substitute_word(text, word, replacement, self.prob, rng)
        return text
