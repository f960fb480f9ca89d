"""`filler_words`: spoken fillers ("uh", "you know", "I mean") inserted between words, as in transcribed speech."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.augmentation._perturbation import Perturbation, check_probability, perturbation

FILLERS: tuple[str, ...] = (
    "uh",
    "um",
    "er",
    "like",
    "you know",
    "I mean",
    "well",
    "so",
    "basically",
    "actually",
    "kind of",
    "sort of",
    "I guess",
    "I think",
    "maybe",
    "probably",
)
"""Fillers, hesitations and hedges that leave the meaning of a sentence intact."""


@perturbation("filler_words")
@dataclass(frozen=True)
class FillerWordsPerturbation(Perturbation):
    """Before each word, with probability `insert_prob`, inserts one random filler followed by a space.

    Words are the pieces between single spaces, so removing the inserted fillers gives back the text exactly.
    """

    insert_prob: float = 0.1

    robustness = True

    def __post_init__(self) -> None:
        check_probability(self.name, "insert_prob", self.insert_prob)

    def perturb(self, text: str, rng: random.Random) -> str:
        pieces = []
        for word in text.split(" "):
            if word and rng.random() < self.insert_prob:
                pieces.append(rng.choice(FILLERS))
            pieces.append(word)
        return " ".join(pieces)
