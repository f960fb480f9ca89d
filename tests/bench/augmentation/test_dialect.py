"""dialect: SAE -> AAE with the fixed lexicon, case kept, references perturbed."""

from __future__ import annotations

import random

import pytest

from bench import Instance, PerturbationSpec, Reference
from bench.augmentation import create_perturbation


def perturb(text: str, **args: object) -> str:
    return create_perturbation(PerturbationSpec(name="dialect", args=args)).perturb(text, random.Random(0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I am not going to talk about it.", "I ain't gonna talk bout it."),  # phrases win over single words
        ("My brother is going home.", "My brotha is goin home."),
        ("Nothing isn't fine because of them", "Nothin ain't fine cuz of dem"),
        ("You all want to come with us?", "Y'all wanna come wit us?"),
        ("Without a doubt", "Without a doubt"),  # "with" inside a word is left alone
    ],
)
def test_sae_to_aae(text: str, expected: str) -> None:
    assert perturb(text) == expected


def test_prob_zero_changes_nothing() -> None:
    assert perturb("I am going about it", prob=0.0) == "I am going about it"


def test_references_are_perturbed_for_fairness() -> None:
    dialect = create_perturbation(PerturbationSpec(name="dialect"))
    assert dialect.fairness and not dialect.robustness
    out = dialect.apply(
        Instance(input="What is he doing?", references=(Reference(output="Nothing", tags=("correct",)),), id="id3")
    )
    assert out.input == "What is he doin?"
    assert out.references == (Reference(output="Nothin", tags=("correct",)),)
