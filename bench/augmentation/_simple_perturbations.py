"""Perturbations that need no word lists: identity, extra_space, lowercase."""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.augmentation._perturbation import Perturbation, bad_argument, perturbation


@perturbation("identity")
@dataclass(frozen=True)
class IdentityPerturbation(Perturbation):
    """Leaves text as it is: a control that must score exactly like the original."""

    def perturb(self, text: str, rng: random.Random) -> str:
        return text


@perturbation("extra_space")
@dataclass(frozen=True)
class ExtraSpacePerturbation(Perturbation):
    """Every space becomes `num_spaces` spaces: "a b" -> "a   b". Meaning is unchanged, tokens are not."""

    num_spaces: int = 3

    robustness = True

    def __post_init__(self) -> None:
        if isinstance(self.num_spaces, bool) or not isinstance(self.num_spaces, int) or self.num_spaces < 1:
            raise bad_argument(self.name, "num_spaces", "an integer >= 1", self.num_spaces)

    def perturb(self, text: str, rng: random.Random) -> str:
        return text.replace(" ", " " * self.num_spaces)


@perturbation("lowercase")
@dataclass(frozen=True)
class LowercasePerturbation(Perturbation):
    """All text in lower case, as people often type."""

    robustness = True

    def perturb(self, text: str, rng: random.Random) -> str:
        return text.lower()
