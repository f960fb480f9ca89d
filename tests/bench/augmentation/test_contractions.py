"""contraction and expansion: fixed table, case kept."""

from __future__ import annotations

import random

import pytest

from bench import PerturbationSpec
from bench.augmentation import create_perturbation
from bench.augmentation._contractions import CONTRACTIONS


def perturb(name: str, text: str) -> str:
    return create_perturbation(PerturbationSpec(name=name)).perturb(text, random.Random(0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I am sure it is not here.", "I'm sure it isn't here."),  # negations first
        ("It is what it is not", "It's what it isn't"),
        ("Do not go; they will not wait.", "Don't go; they won't wait."),
        ("DO NOT SHOUT", "DON'T SHOUT"),
        ("You cannot do   not", "You can't don't"),  # any run of whitespace joins the words
        ("This is not it", "This isn't it"),  # "is" inside "This" is not a word
        ("Nothing to contract.", "Nothing to contract."),
    ],
)
def test_contraction(text: str, expected: str) -> None:
    assert perturb("contraction", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Don't worry, I'm here.", "Do not worry, I am here."),
        ("it’s fine, WON'T happen", "it is fine, WILL NOT happen"),  # typographic apostrophe too
        ("They're sure we've won", "They are sure we have won"),
        ("Plain text", "Plain text"),
    ],
)
def test_expansion(text: str, expected: str) -> None:
    assert perturb("expansion", text) == expected


def test_contraction_then_expansion_round_trips_the_table() -> None:
    for expanded, contracted in CONTRACTIONS:
        assert perturb("contraction", expanded) == contracted
        assert perturb("expansion", contracted) == expanded


def test_both_are_robustness_only() -> None:
    for name in ("contraction", "expansion"):
        built = create_perturbation(PerturbationSpec(name=name))
        assert built.robustness and not built.fairness and not built.perturbs_references
