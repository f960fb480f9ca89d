"""Perturbations that need no word lists: identity (Mercury's), extra_space, space and lowercase (HELM's)."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from bench.augmentation._perturbation import Perturbation, bad_argument, perturbation


def check_count(perturbation_name: str, arg: str, value: object) -> None:
    """Refuse anything but an integer >= 1.

    Raises:
        ValueError: naming the perturbation, the argument and the value.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise bad_argument(perturbation_name, arg, "an integer >= 1", value)


@perturbation("identity")
@dataclass(frozen=True)
class IdentityPerturbation(Perturbation):
    """Leaves text as it is: a control that must score exactly like the original (Mercury's; HELM has none)."""

    def perturb(self, text: str, rng: random.Random) -> str:
        return text


@perturbation("extra_space")
@dataclass(frozen=True)
class ExtraSpacePerturbation(Perturbation):
    """Every space becomes `num_spaces` spaces: "a b" -> "a   b". Meaning is unchanged, tokens are not.

    HELM's `extra_space` preset uses 2; HELM has no default, Mercury's is 3.
    """

    num_spaces: int = 3

    robustness = True

    def __post_init__(self) -> None:
        check_count(self.name, "num_spaces", self.num_spaces)

    def perturb(self, text: str, rng: random.Random) -> str:
        return text.replace(" ", " " * self.num_spaces)


_SPACES = re.compile(r" +")


@perturbation("space")
@dataclass(frozen=True)
class SpacePerturbation(Perturbation):
    """Each run of spaces becomes 1 to `max_spaces` spaces, drawn per run (HELM's; mild_mix uses 3)."""

    max_spaces: int = 3

    robustness = True

    def __post_init__(self) -> None:
        check_count(self.name, "max_spaces", self.max_spaces)

    def perturb(self, text: str, rng: random.Random) -> str:
        return _SPACES.sub(lambda _: " " * rng.randint(1, self.max_spaces), text)


@perturbation("lowercase")
@dataclass(frozen=True)
class LowercasePerturbation(Perturbation):
    """All text in lower case, as people often type."""

    robustness = True

    def perturb(self, text: str, rng: random.Random) -> str:
        return text.lower()
