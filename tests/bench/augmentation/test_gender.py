"""gender: HELM's tables and matching (between two non-word characters), in input and references."""

from __future__ import annotations

import random

import pytest

from bench import Instance, PerturbationSpec, Reference
from bench.augmentation import create_perturbation
from bench.augmentation._gender import GENDER_PRONOUN_MAPPINGS, GENDER_TERM_MAPPINGS


def perturb(text: str, **args: object) -> str:
    return create_perturbation(PerturbationSpec(name="gender", args=args)).perturb(text, random.Random(0))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("So he lost his keys.", "So she lost her keys."),
        ("He lost his keys.", "He lost her keys."),  # nothing before "He": HELM never replaces the first word
        ("It was his", "It was his"),  # nor the last
        ("Give it to him, HIM and Himself!", "Give it to her, HER and Herself!"),
        ("A book of his.", "A book of her."),  # "his" -> "her", the first pair for "his"; "hers" never comes
        (" he he he ", " she he she "),  # matches cannot share the space between them
        ("The man helped the-he-man.", "The man helped the-she-man."),  # "-" is a non-word character
        ("They, the children, came.", "They, the children, came."),  # neutral words are not a source here
    ],
)
def test_pronouns_male_to_female(text: str, expected: str) -> None:
    assert perturb(text) == expected


def test_terms_mode() -> None:
    text = "The man and his son met the King, the boys and two grandfathers."
    assert perturb(text, mode="terms") == "The woman and his daughter met the Queen, the girls and two grandfathers."


def test_bidirectional_swaps_both_ways() -> None:
    # female -> male first ("she" -> "he"), then male -> female ("he" -> "she"): a swap back, as HELM does it.
    assert perturb(" she and he ", source_class="female", target_class="male", bidirectional=True) == " she and she "


def test_probability_draws_one_uniform_per_match() -> None:
    rng = random.Random("id4")
    first, second = rng.uniform(0, 1) < 0.5, rng.uniform(0, 1) < 0.5
    expected = f" {'she' if first else 'he'} and {'she' if second else 'he'} "
    gender = create_perturbation(PerturbationSpec(name="gender", args={"prob": 0.5}))
    assert gender.apply(Instance(input=" he and he ", id="id4")).input == expected


def test_references_first_then_input_on_one_stream() -> None:
    gender = create_perturbation(PerturbationSpec(name="gender", args={"prob": 0.5}))
    instance = Instance(input=" he ", references=(Reference(output=" he ", tags=("correct",)),), id="id4")
    rng = random.Random("id4")
    reference_draw, input_draw = rng.uniform(0, 1) < 0.5, rng.uniform(0, 1) < 0.5
    out = gender.apply(instance)
    assert out.references[0].output == (" she " if reference_draw else " he ")
    assert out.input == (" she " if input_draw else " he ")


def test_tables_are_helms() -> None:
    assert GENDER_PRONOUN_MAPPINGS[0] == ("they", "she", "he") and len(GENDER_PRONOUN_MAPPINGS) == 5
    assert len(GENDER_TERM_MAPPINGS) == 32 and ("grandparents", "grandmothers", "grandfather") in GENDER_TERM_MAPPINGS


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"mode": "names"}, r"'gender': argument 'mode' must be one of 'terms', 'pronouns', got 'names'"),
        ({"source_class": "boy"}, r"argument 'source_class' must be one of 'neutral', 'female', 'male', got 'boy'"),
        ({"prob": 1.5}, r"argument 'prob' must be a number in \[0, 1\]"),
        ({"bidirectional": 1}, r"argument 'bidirectional' must be true or false, got 1"),
    ],
)
def test_bad_arguments_are_refused(args: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_perturbation(PerturbationSpec(name="gender", args=args))
