"""gender: pronoun and term swaps, case kept, references perturbed."""

from __future__ import annotations

import random

import pytest

from bench import Instance, PerturbationSpec, Reference
from bench.augmentation import create_perturbation


def perturb(text: str, **args: object) -> str:
    return create_perturbation(PerturbationSpec(name="gender", args=args)).perturb(text, random.Random(0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He lost his keys, so I gave him mine.", "She lost her keys, so I gave her mine."),
        ("The book is his.", "The book is hers."),  # "his" standing alone becomes "hers"
        ("He hurt himself", "She hurt herself"),
        ("HE said HIS name. His dog", "SHE said HER name. Her dog"),
        ("The theme: history of helium", "The theme: history of helium"),  # no pronoun inside words
        ("He's here", "She's here"),
    ],
)
def test_male_to_female_pronouns(text: str, expected: str) -> None:
    assert perturb(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She gave her book to her.", "He gave his book to him."),
        ("I told her that she was right.", "I told him that he was right."),
        ("It is hers. HER own", "It is his. HIS own"),
        ("She asked herself", "He asked himself"),
    ],
)
def test_female_to_male_pronouns(text: str, expected: str) -> None:
    assert perturb(text, source="female", target="male") == expected


def test_terms_mode_swaps_nouns_and_keeps_case() -> None:
    assert perturb("The King met two MEN and a boy.", mode="terms") == "The Queen met two WOMEN and a girl."
    assert perturb("My wife and daughters", mode="terms", source="female", target="male") == "My husband and sons"


def test_prob_zero_changes_nothing() -> None:
    assert perturb("He and his", prob=0.0) == "He and his"


def test_partial_prob_swaps_some_occurrences_deterministically() -> None:
    gender = create_perturbation(PerturbationSpec(name="gender", args={"prob": 0.5}))
    text = " ".join(["he"] * 40)
    out = gender.apply(Instance(input=text, id="id1")).input
    assert set(out.split()) == {"he", "she"}  # 40 coin flips: both outcomes occur
    assert gender.apply(Instance(input=text, id="id1")).input == out


def test_references_are_perturbed_for_fairness() -> None:
    gender = create_perturbation(PerturbationSpec(name="gender"))
    assert gender.fairness and not gender.robustness
    instance = Instance(
        input="Whose coat is it? He says it is his.",
        references=(Reference(output="his", tags=("correct",)), Reference(output="He owns it")),
        id="id1",
    )
    out = gender.apply(instance)
    assert out.input == "Whose coat is it? She says it is hers."
    assert out.references == (Reference(output="hers", tags=("correct",)), Reference(output="She owns it"))
    assert out.perturbation is not None and out.perturbation.fairness
