"""`misspellings`: words replaced by one of their common misspellings ("already" -> "allready"), HELM's.

The table is the file HELM ships (data/correct_to_misspelling.json, see data/README.md). Matching is HELM's:
case-sensitive whole words (the table holds "about" and "About" as separate entries), the first key of the
table's order winning at a position; each match is replaced with probability `prob` by a random misspelling.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from bench.augmentation._perturbation import Perturbation, check_probability, perturbation
from bench.augmentation._text import match_case

MISSPELLINGS_FILE = "correct_to_misspelling.json"


@cache
def misspellings_table() -> tuple[dict[str, list[str]], re.Pattern[str]]:
    """The shipped table (word -> misspellings, in file order) and HELM's regex over its keys (read once)."""
    text = resources.files("bench.augmentation").joinpath("data", MISSPELLINGS_FILE).read_text(encoding="utf-8")
    table: dict[str, list[str]] = json.loads(text)
    # Keys hold only letters, digits, spaces, "'" and "-", so HELM's unescaped alternation is safe to reuse.
    return table, re.compile(r"\b({})\b".format("|".join(table)))


def misspell(text: str, prob: float, rng: random.Random) -> str:
    """HELM's misspelling of `text`: one draw per table word found, a second to pick its misspelling."""
    table, pattern = misspellings_table()

    def replace(match: re.Match[str]) -> str:
        word = match.group(1)
        if rng.random() < prob:
            return match_case(word, str(rng.choice(table[word])))
        return word

    return pattern.sub(replace, text)


@perturbation("misspellings")
@dataclass(frozen=True)
class MisspellingPerturbation(Perturbation):
    """Each word that has common misspellings becomes one of them with probability `prob`."""

    prob: float = 0.1

    robustness = True

    def __post_init__(self) -> None:
        check_probability(self.name, "prob", self.prob)

    def perturb(self, text: str, rng: random.Random) -> str:
        return misspell(text, self.prob, rng)
