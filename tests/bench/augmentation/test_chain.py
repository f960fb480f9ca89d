"""PerturbationChain: parts in order, one name, combined flags, references by the parts that perturb them."""

from __future__ import annotations

import pytest

from bench import Instance, PerturbationDescription, PerturbationSpec, Reference
from bench.augmentation import PerturbationChain, create_perturbation

LOWERCASE = PerturbationSpec(name="lowercase")
EXTRA_SPACE = PerturbationSpec(name="extra_space", args={"num_spaces": 2})
GENDER = PerturbationSpec(name="gender")

INSTANCE = Instance(input="So He Did It", references=(Reference(output="It Is His Cat", tags=("correct",)),), id="id1")


def test_chain_applies_parts_in_order_and_names_them() -> None:
    chain = create_perturbation((LOWERCASE, EXTRA_SPACE))
    assert isinstance(chain, PerturbationChain)
    out = chain.apply(INSTANCE)
    assert out.input == "so  he  did  it"
    assert out.references == INSTANCE.references  # neither part perturbs references
    assert out.perturbation == PerturbationDescription(
        name="lowercase+extra_space",
        robustness=True,
        fairness=False,
        args={"lowercase": {}, "extra_space": {"num_spaces": 2}},
    )


def test_order_matters() -> None:
    # gender then lowercase: "So He Did It" -> "So She Did It" -> "so she did it"; the reference is rewritten
    # by gender only ("It Is Her Cat"), since lowercase, a robustness perturbation, leaves references alone.
    out = create_perturbation((GENDER, LOWERCASE)).apply(INSTANCE)
    assert out.input == "so she did it"
    assert out.references == (Reference(output="It Is Her Cat", tags=("correct",)),)
    # extra_space then lowercase differs from lowercase alone only by the spaces: parts really run in order.
    assert create_perturbation((EXTRA_SPACE, LOWERCASE)).apply(INSTANCE).input == "so  he  did  it"


def test_flags_are_any_of_the_parts() -> None:
    chain = create_perturbation((LOWERCASE, GENDER))
    assert chain.robustness and chain.fairness and chain.perturbs_references
    assert chain.description.name == "lowercase+gender"


def test_repeated_part_gets_a_numbered_key() -> None:
    chain = create_perturbation((EXTRA_SPACE, EXTRA_SPACE))
    assert chain.apply(INSTANCE).input == "So    He    Did    It"  # 1 space -> 2 -> 4
    assert chain.args == {"extra_space": {"num_spaces": 2}, "extra_space#2": {"num_spaces": 2}}


def test_chain_is_deterministic_and_round_trips_to_spec() -> None:
    chain = create_perturbation((LOWERCASE, PerturbationSpec(name="typos", args={"prob": 0.5})))
    assert chain.apply(INSTANCE) == chain.apply(INSTANCE)
    assert chain.to_spec() == (LOWERCASE, PerturbationSpec(name="typos", args={"prob": 0.5}))


def test_empty_chain_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        create_perturbation(())
