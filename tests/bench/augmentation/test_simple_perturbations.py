"""identity, extra_space and lowercase: fixed outputs."""

from __future__ import annotations

import random

from bench import PerturbationSpec
from bench.augmentation import create_perturbation


def perturb(name: str, text: str, **args: object) -> str:
    return create_perturbation(PerturbationSpec(name=name, args=args)).perturb(text, random.Random(0))


def test_identity_returns_the_text() -> None:
    assert perturb("identity", "Leave  me\tALONE.") == "Leave  me\tALONE."


def test_identity_is_neither_robustness_nor_fairness() -> None:
    identity = create_perturbation(PerturbationSpec(name="identity"))
    assert not identity.robustness and not identity.fairness


def test_extra_space_triples_every_space_by_default() -> None:
    # "a b  c": 3 spaces become 3 * 3 = 9; the tab is not a space and stays.
    assert perturb("extra_space", "a b  c\td") == "a   b      c\td"


def test_extra_space_with_num_spaces() -> None:
    assert perturb("extra_space", "Is it?", num_spaces=2) == "Is  it?"
    assert perturb("extra_space", "Is it?", num_spaces=1) == "Is it?"


def test_lowercase() -> None:
    assert perturb("lowercase", "The USA, Paris and ÉCOLE.") == "the usa, paris and école."
