"""`typos`: letters replaced by a neighbouring key of a QWERTY keyboard, as a hurried typist would."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.augmentation._perturbation import Perturbation, check_probability, perturbation

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
"""Letter rows of a QWERTY keyboard; each row sits half a key to the right of the row above."""


def _keyboard_neighbours() -> dict[str, str]:
    """For each letter, the keys touching it: left and right, and the keys above and below within half a key.

    With row r's key i at x = i + r / 2, "g" (row 1, x = 4.5) touches f and h, t (x = 4) and y (x = 5) above,
    v (x = 4) and b (x = 5) below.
    """
    positions = {key: (r, i + r / 2) for r, row in enumerate(_ROWS) for i, key in enumerate(row)}
    neighbours: dict[str, str] = {}
    for key, (row, x) in positions.items():
        near = [
            other
            for other, (other_row, other_x) in positions.items()
            if other != key
            and (
                (other_row == row and abs(other_x - x) == 1) or (abs(other_row - row) == 1 and abs(other_x - x) <= 0.5)
            )
        ]
        neighbours[key] = "".join(sorted(near))
    return neighbours


KEYBOARD_NEIGHBOURS: dict[str, str] = _keyboard_neighbours()
"""Lower-case letter -> the letters on the keys around it."""


@perturbation("typos")
@dataclass(frozen=True)
class TyposPerturbation(Perturbation):
    """Each letter is replaced, with probability `prob`, by a random keyboard neighbour in the same case."""

    prob: float = 0.1

    robustness = True

    def __post_init__(self) -> None:
        check_probability(self.name, "prob", self.prob)

    def perturb(self, text: str, rng: random.Random) -> str:
        return "".join(self._typo(char, rng) for char in text)

    def _typo(self, char: str, rng: random.Random) -> str:
        near = KEYBOARD_NEIGHBOURS.get(char.lower())
        if near is None or rng.random() >= self.prob:
            return char
        replacement = rng.choice(near)
        return replacement.upper() if char.isupper() else replacement
