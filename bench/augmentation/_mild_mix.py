"""`mild_mix`: HELM's canonical robustness perturbation, the one copy its `robustness` preset makes.

In order, on one generator: lower case, contractions, misspellings (probability 0.1), then each run of spaces
becomes 1 to 3 spaces. Each step keeps the text readable, so the drop it causes is a robustness gap, not a
question nobody could answer. References are left alone (a model should not have to produce broken text).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.augmentation._contractions import contract
from bench.augmentation._misspellings import misspell
from bench.augmentation._perturbation import Perturbation, perturbation
from bench.augmentation._simple_perturbations import SpacePerturbation

MISSPELLING_PROB = 0.1
MAX_SPACES = 3
_SPACE = SpacePerturbation(max_spaces=MAX_SPACES)


@perturbation("mild_mix")
@dataclass(frozen=True)
class MildMixPerturbation(Perturbation):
    """Lower case, contractions, misspellings (0.1) and 1-3 spaces, in HELM's order; HELM's takes no arguments."""

    robustness = True

    def perturb(self, text: str, rng: random.Random) -> str:
        text = contract(text.lower())
        text = misspell(text, MISSPELLING_PROB, rng)
        return _SPACE.perturb(text, rng)
