"""The Perturbation base: registration, creation from specs, seeding, and apply."""

from __future__ import annotations

import random
from dataclasses import dataclass

import pytest

from bench import Instance, PerturbationDescription, PerturbationSpec, Reference
from bench.augmentation import PERTURBATIONS, Perturbation, create_perturbation, perturbation
from bench.augmentation._perturbation import instance_rng

INSTANCE = Instance(
    input="The quick brown fox jumps over the lazy dog",
    references=(Reference(output="A fox", tags=("correct",)),),
    split="test",
    id="id7",
)


def test_builtins_are_registered() -> None:
    assert PERTURBATIONS.names() == [
        "contraction",
        "dialect",
        "expansion",
        "extra_space",
        "filler_words",
        "gender",
        "identity",
        "lowercase",
        "mild_mix",
        "misspellings",
        "person_name",
        "space",
        "typos",
    ]


def test_apply_sets_description_and_keeps_id_split_and_tags() -> None:
    lowercase = create_perturbation(PerturbationSpec(name="lowercase"))
    out = lowercase.apply(INSTANCE)
    assert out.input == "the quick brown fox jumps over the lazy dog"
    assert out.id == "id7" and out.split == "test"
    assert out.references == INSTANCE.references  # robustness: references untouched, "A fox" keeps its capital
    assert out.perturbation == PerturbationDescription(name="lowercase", robustness=True, fairness=False, args={})
    assert INSTANCE.perturbation is None  # the original is not modified


def test_apply_without_id_is_refused() -> None:
    with pytest.raises(ValueError, match="instance ids"):
        create_perturbation(PerturbationSpec(name="lowercase")).apply(Instance(input="x"))


def test_same_instance_same_seed_gives_same_result() -> None:
    typos = create_perturbation(PerturbationSpec(name="typos", args={"prob": 0.5}))
    assert typos.apply(INSTANCE).input == typos.apply(INSTANCE).input
    # A freshly built perturbation (as in another process) agrees too.
    again = create_perturbation(PerturbationSpec(name="typos", args={"prob": 0.5}))
    assert again.apply(INSTANCE).input == typos.apply(INSTANCE).input


def test_seeding_is_helms_random_of_the_instance_id() -> None:
    # HELM: Random(instance.id) for the first copy, Random(str(seed) + instance.id) for copy `seed` >= 1.
    # Python seeds a Random from a str through SHA-512 of its bytes: the same in every process.
    assert instance_rng("id7").random() == random.Random("id7").random()
    assert instance_rng("id7", 0).random() == random.Random("id7").random()
    assert instance_rng("id7", 2).random() == random.Random("2id7").random()
    typos = create_perturbation(PerturbationSpec(name="typos", args={"prob": 0.5}))
    assert typos.apply(INSTANCE).input == PINNED_TYPOS


PINNED_TYPOS = "Thf shjxo brlqn fod jymps ovrg the lqau dog"
"""HELM 0.5.16's TyposPerturbation(prob=0.5) on this input with id "id7" (computed with HELM's code)."""


def test_different_ids_and_copies_give_different_results() -> None:
    typos = create_perturbation(PerturbationSpec(name="typos", args={"prob": 0.5}))
    base = typos.apply(INSTANCE).input
    assert typos.apply(INSTANCE.model_copy(update={"id": "id8"})).input != base
    assert typos.apply(INSTANCE, seed=1).input != base


def test_references_draw_before_the_input() -> None:
    # One stream per instance, references first (HELM's TextPerturbation.apply): the input's typos depend on
    # how many letters the references had.
    typos = create_perturbation(PerturbationSpec(name="typos", args={"prob": 0.5}))
    alone = typos.apply(INSTANCE.model_copy(update={"references": ()}))
    assert typos.apply(INSTANCE).input == alone.input  # typos leave references alone: no draws for them
    gender = create_perturbation(PerturbationSpec(name="gender", args={"prob": 0.5}))
    with_reference = INSTANCE.model_copy(
        update={"input": " he ", "references": (Reference(output=" he ", tags=("correct",)),)}
    )
    rng = random.Random("id7")
    reference_draw, input_draw = rng.uniform(0, 1), rng.uniform(0, 1)
    out = gender.apply(with_reference)
    assert (out.references[0].output == " she ") == (reference_draw < 0.5)
    assert (out.input == " she ") == (input_draw < 0.5)


def test_to_spec_writes_default_args() -> None:
    typos = create_perturbation(PerturbationSpec(name="typos"))
    assert typos.to_spec() == PerturbationSpec(name="typos", args={"prob": 0.1})
    assert create_perturbation(typos.to_spec()).args == {"prob": 0.1}


def test_unknown_name_raises_lookup_error_with_suggestion() -> None:
    with pytest.raises(LookupError, match=r"unknown perturbation 'typo'; did you mean 'typos'"):
        create_perturbation(PerturbationSpec(name="typo"))


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            PerturbationSpec(name="typos", args={"p": 0.1}),
            r"perturbation 'typos' has no argument 'p' \(it takes 'prob'\)",
        ),
        (
            PerturbationSpec(name="lowercase", args={"x": 1}),
            r"'lowercase' has no argument 'x' \(it takes no arguments\)",
        ),
        (PerturbationSpec(name="typos", args={"prob": 1.5}), r"'typos': argument 'prob' must be a number in \[0, 1\]"),
        (PerturbationSpec(name="typos", args={"prob": "0.1"}), r"'typos': argument 'prob'"),
        (PerturbationSpec(name="typos", args={"prob": True}), r"'typos': argument 'prob'"),
        (PerturbationSpec(name="extra_space", args={"num_spaces": 0}), r"'extra_space': argument 'num_spaces'"),
        (PerturbationSpec(name="extra_space", args={"num_spaces": 2.0}), r"'extra_space': argument 'num_spaces'"),
        (PerturbationSpec(name="filler_words", args={"insert_prob": -0.1}), r"argument 'insert_prob'"),
        (PerturbationSpec(name="gender", args={"mode": "names"}), r"'gender': argument 'mode' must be one of"),
        (PerturbationSpec(name="gender", args={"source": "female"}), r"'gender' has no argument 'source'"),
        (PerturbationSpec(name="dialect", args={"target_class": "XYZ"}), r"'dialect': argument 'source_class, target"),
        (PerturbationSpec(name="mild_mix", args={"prob": 0.1}), r"'mild_mix' has no argument 'prob'"),
    ],
)
def test_bad_args_raise_value_error_naming_perturbation_and_arg(spec: PerturbationSpec, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_perturbation(spec)


@pytest.mark.usefixtures("restore_augmentation_registries")
def test_decorator_registers_a_plugin_and_refuses_duplicates() -> None:
    @perturbation("reverse_words")
    @dataclass(frozen=True)
    class ReverseWords(Perturbation):
        robustness = True

        def perturb(self, text: str, rng: random.Random) -> str:
            return " ".join(reversed(text.split(" ")))

    built = create_perturbation(PerturbationSpec(name="reverse_words"))
    assert built.name == "reverse_words"
    assert built.apply(INSTANCE).input == "dog lazy the over jumps fox brown quick The"

    with pytest.raises(ValueError, match="already registered"):
        perturbation("reverse_words")(type("Other", (ReverseWords,), {}))
