"""contraction and expansion: HELM's table and matching, including its quirks (kept for parity)."""

from __future__ import annotations

import random

import pytest

from bench import PerturbationSpec
from bench.augmentation import create_perturbation
from bench.augmentation._contractions import CONTRACTION_MAP, REVERSE_CONTRACTION_MAP


def perturb(name: str, text: str) -> str:
    return create_perturbation(PerturbationSpec(name=name)).perturb(text, random.Random(0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She is a doctor, and I am a student", "She's a doctor, and I'm a student"),  # HELM's docstring example
        ("It is what it is", "It's what it is"),  # only before a space: the end stays expanded
        ("It is not here.", "It's not here."),  # "it is" comes before "is not" in the table's order
        ("DO NOT SHOUT", "Don't SHOUT"),  # HELM's case rule: "DO NOT" has a space, so not all upper case
        ("You cannot do   not", "You can't do   not"),  # a run of spaces is not a space
        ("This is not it", "This isn't it"),  # "is not" -> "isn't" (the last of "ain't"/"isn't"), not in "This"
        ("i am here and I am there", "i'm here and I'm there"),
        ("Nothing to contract.", "Nothing to contract."),
    ],
)
def test_contraction(text: str, expected: str) -> None:
    assert perturb("contraction", text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Don't worry, I'm here.", "Do not worry, I am here."),
        ("WON'T and won't", "Will not and will not"),  # capitalised, not upper case ("'" has no case)
        ("it’s fine", "it’s fine"),  # a typographic apostrophe is not in the table
        ("You can't've", "You cannot've"),  # "can't" precedes "can't've" in the table, so it wins
        ("They're sure we've won", "They are sure we have won"),
        ("Plain text", "Plain text"),
    ],
)
def test_expansion(text: str, expected: str) -> None:
    assert perturb("expansion", text) == expected


def test_the_table_is_helms() -> None:
    assert len(CONTRACTION_MAP) == 77
    assert list(CONTRACTION_MAP)[:3] == ["ain't", "aren't", "can't"]
    assert REVERSE_CONTRACTION_MAP["is not"] == "isn't" and next(iter(REVERSE_CONTRACTION_MAP)) == "is not"


def test_both_are_robustness_only() -> None:
    for name in ("contraction", "expansion"):
        built = create_perturbation(PerturbationSpec(name=name))
        assert built.robustness and not built.fairness and not built.perturbs_references
