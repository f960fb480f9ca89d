"""typos: keyboard neighbours, case kept, probability respected."""

from __future__ import annotations

import random

import pytest

from bench import Instance, PerturbationSpec, Reference
from bench.augmentation import create_perturbation
from bench.augmentation._typos import KEYBOARD_NEIGHBOURS

TEXT = "The Quick brown FOX, 42 jumps!"


@pytest.mark.parametrize(
    ("key", "neighbours"),
    [
        ("g", "bfhtvy"),  # f h beside, t y above, v b below
        ("q", "aw"),  # corner: w beside, a below
        ("a", "qswz"),
        ("m", "jkn"),  # bottom row: n beside, j k above
        ("p", "lo"),
    ],
)
def test_keyboard_neighbours_match_a_qwerty_keyboard(key: str, neighbours: str) -> None:
    assert KEYBOARD_NEIGHBOURS[key] == neighbours


def test_neighbours_are_symmetric_and_cover_26_letters() -> None:
    assert len(KEYBOARD_NEIGHBOURS) == 26
    for key, near in KEYBOARD_NEIGHBOURS.items():
        assert key not in near
        assert all(key in KEYBOARD_NEIGHBOURS[other] for other in near)


def test_prob_zero_leaves_text_unchanged() -> None:
    perturbation = create_perturbation(PerturbationSpec(name="typos", args={"prob": 0.0}))
    assert perturbation.perturb(TEXT, random.Random(1)) == TEXT


def test_prob_one_replaces_every_letter_by_a_neighbour_in_the_same_case() -> None:
    perturbation = create_perturbation(PerturbationSpec(name="typos", args={"prob": 1.0}))
    out = perturbation.perturb(TEXT, random.Random(1))
    assert len(out) == len(TEXT)
    for before, after in zip(TEXT, out):
        if before.isalpha():
            assert after.lower() in KEYBOARD_NEIGHBOURS[before.lower()]
            assert after.isupper() == before.isupper()
        else:
            assert after == before  # digits, spaces and punctuation are kept


def test_robustness_only_references_untouched() -> None:
    perturbation = create_perturbation(PerturbationSpec(name="typos", args={"prob": 1.0}))
    assert perturbation.robustness and not perturbation.fairness
    instance = Instance(input="abc", references=(Reference(output="abc", tags=("correct",)),), id="id1")
    out = perturbation.apply(instance)
    assert out.input != "abc"
    assert out.references == instance.references


def test_same_id_same_typos_different_ids_differ() -> None:
    perturbation = create_perturbation(PerturbationSpec(name="typos", args={"prob": 0.3}))
    one = Instance(input=TEXT, id="id1")
    assert perturbation.apply(one).input == perturbation.apply(one).input
    outputs = {perturbation.apply(one.model_copy(update={"id": f"id{i}"})).input for i in range(5)}
    assert len(outputs) == 5
