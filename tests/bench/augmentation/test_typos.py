"""typos: HELM's keyboard map, case kept, probability respected."""

from __future__ import annotations

import random

import pytest

from bench import Instance, PerturbationSpec, Reference
from bench.augmentation import create_perturbation
from bench.augmentation._typos import KEYBOARD_NEIGHBOURS

TEXT = "The Quick brown FOX, 42 jumps!"


@pytest.mark.parametrize(
    ("key", "neighbours"),
    [("g", "tyhbvf"), ("q", "was"), ("a", "qwsz"), ("m", "jkn"), ("p", "ol"), ("l", "opk"), ("s", "weadzx")],
)
def test_keyboard_map_is_helms_in_helms_order(key: str, neighbours: str) -> None:
    # The order matters: rng.choice picks by position.
    assert KEYBOARD_NEIGHBOURS[key] == neighbours


def test_map_covers_26_letters_never_the_key_itself() -> None:
    assert sorted(KEYBOARD_NEIGHBOURS) == list("abcdefghijklmnopqrstuvwxyz")
    assert all(key not in near for key, near in KEYBOARD_NEIGHBOURS.items())


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


def test_draws_follow_helms_loop() -> None:
    # One draw per mapped letter, then a choice among its neighbours: replay it with the same generator.
    rng = random.Random("id3")
    expected = ""
    for char in "Ab1":
        if char.lower() in KEYBOARD_NEIGHBOURS and rng.random() < 0.5:
            new = rng.choice(KEYBOARD_NEIGHBOURS[char.lower()])
            expected += new.upper() if char.isupper() else new
        else:
            expected += char
    perturbation = create_perturbation(PerturbationSpec(name="typos", args={"prob": 0.5}))
    assert perturbation.apply(Instance(input="Ab1", id="id3")).input == expected


def test_robustness_only_references_untouched() -> None:
    perturbation = create_perturbation(PerturbationSpec(name="typos", args={"prob": 1.0}))
    assert perturbation.robustness and not perturbation.fairness
    instance = Instance(input="abc", references=(Reference(output="abc", tags=("correct",)),), id="id1")
    out = perturbation.apply(instance)
    assert out.input != "abc"
    assert out.references == instance.references
