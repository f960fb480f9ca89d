"""`typos`: letters replaced by a neighbouring key of a QWERTY keyboard, as a hurried typist would (HELM's).

The keyboard map is HELM 0.5.16's (after NL-Augmenter's butter_fingers, distance-1 keys only, never the key
itself), and so is the loop: one draw per mapped letter, a second to pick the neighbour.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.augmentation._perturbation import Perturbation, check_probability, perturbation

KEYBOARD_NEIGHBOURS: dict[str, str] = {
    # top row
    "q": "was", "w": "qesad", "e": "wsdfr", "r": "edfgt", "t": "rfghy",
    "y": "tghju", "u": "yhjki", "i": "ujklo", "o": "iklp", "p": "ol",
    # home row
    "a": "qwsz", "s": "weadzx", "d": "erfcxs", "f": "rtgvcd", "g": "tyhbvf",
    "h": "yujnbg", "j": "uikmnh", "k": "iolmj", "l": "opk",
    # bottom row
    "z": "asx", "x": "sdcz", "c": "dfvx", "v": "fgbc", "b": "ghnv", "n": "hjmb", "m": "jkn",
}  # fmt: skip
"""Lower-case letter -> the letters that may replace it, in HELM's order (the order decides `rng.choice`)."""


def typo(char: str, prob: float, rng: random.Random) -> str:
    """HELM's treatment of one character: its lower case, perhaps replaced, put back in upper case if it was not
    lower case (so a character whose `lower()` differs comes back through `upper()`, as in HELM)."""
    lower = char.lower()
    new = lower
    near = KEYBOARD_NEIGHBOURS.get(lower)
    if near is not None and rng.random() < prob:
        new = rng.choice(near)
    return new.upper() if lower != char else new


@perturbation("typos")
@dataclass(frozen=True)
class TyposPerturbation(Perturbation):
    """Each letter is replaced, with probability `prob`, by a random keyboard neighbour in the same case."""

    prob: float = 0.1

    robustness = True

    def __post_init__(self) -> None:
        check_probability(self.name, "prob", self.prob)

    def perturb(self, text: str, rng: random.Random) -> str:
        return "".join(typo(char, self.prob, rng) for char in text)
