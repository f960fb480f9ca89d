"""DataAugmenter: the train and eval switches, order, skip-unchanged, seeds, ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import Instance, PerturbationSpec, Reference
from bench.augmentation import DataAugmenter, DataAugmenterSpec, augment_instances
from tests.bench.augmentation.helm_data import place_helm_data

LOWERCASE = PerturbationSpec(name="lowercase")
EXTRA_SPACE = PerturbationSpec(name="extra_space")

TRAIN = Instance(input="Train Me", split="train", id="id0")
EVAL1 = Instance(input="Eval One", split="test", id="id1")
EVAL2 = Instance(input="eval two", split="valid", id="id2")  # already lower case
INSTANCES = [TRAIN, EVAL1, EVAL2]


def summary(instances: list[Instance]) -> list[tuple[str | None, str | None, str]]:
    """(id, perturbation name or None, input) for each instance, in order."""
    return [(i.id, i.perturbation.name if i.perturbation else None, i.input) for i in instances]


def test_nothing_augmented_by_default() -> None:
    spec = DataAugmenterSpec(perturbation_specs=(LOWERCASE,))
    assert DataAugmenter().augment(INSTANCES, spec) == INSTANCES


def test_eval_with_originals_grouped_per_instance_in_spec_order() -> None:
    spec = DataAugmenterSpec(
        perturbation_specs=(LOWERCASE, EXTRA_SPACE),
        should_augment_eval_instances=True,
        should_include_original_eval=True,
    )
    assert summary(augment_instances(INSTANCES, spec)) == [
        ("id0", None, "Train Me"),  # train passes through
        ("id1", None, "Eval One"),
        ("id1", "lowercase", "eval one"),
        ("id1", "extra_space", "Eval   One"),
        ("id2", None, "eval two"),
        ("id2", "lowercase", "eval two"),  # unchanged but kept: skip-unchanged is off
        ("id2", "extra_space", "eval   two"),
    ]


def test_eval_without_originals_and_skip_unchanged() -> None:
    spec = DataAugmenterSpec(
        perturbation_specs=(LOWERCASE, EXTRA_SPACE),
        should_augment_eval_instances=True,
        should_skip_unchanged_eval=True,
    )
    assert summary(augment_instances(INSTANCES, spec)) == [
        ("id0", None, "Train Me"),
        ("id1", "lowercase", "eval one"),
        ("id1", "extra_space", "Eval   One"),
        ("id2", "extra_space", "eval   two"),  # its lowercase copy equalled the original: dropped
    ]


def test_train_switches_are_separate_from_eval_switches() -> None:
    spec = DataAugmenterSpec(
        perturbation_specs=(LOWERCASE,),
        should_augment_train_instances=True,
        should_include_original_train=True,
        should_skip_unchanged_train=True,
    )
    assert summary(augment_instances(INSTANCES, spec)) == [
        ("id0", None, "Train Me"),
        ("id0", "lowercase", "train me"),
        ("id1", None, "Eval One"),  # eval not augmented
        ("id2", None, "eval two"),
    ]


def test_train_without_original_replaces_train_instances() -> None:
    spec = DataAugmenterSpec(perturbation_specs=(LOWERCASE,), should_augment_train_instances=True)
    out = augment_instances([TRAIN], spec)
    assert summary(out) == [("id0", "lowercase", "train me")]
    assert out[0].split == "train"


def test_augmenting_with_no_perturbation_and_no_original_leaves_nothing() -> None:
    # The switches are literal, as in HELM: augmenting without originals keeps only perturbed copies.
    spec = DataAugmenterSpec(should_augment_eval_instances=True)
    assert augment_instances(INSTANCES, spec) == [TRAIN]


def test_seeds_per_instance_gives_that_many_distinct_copies_with_the_same_id() -> None:
    typos = PerturbationSpec(name="typos", args={"prob": 0.5})
    spec = DataAugmenterSpec(
        perturbation_specs=(typos, LOWERCASE), should_augment_eval_instances=True, seeds_per_instance=3
    )
    long_input = Instance(input="the quick brown fox jumps over the lazy dog", id="id5")
    out = augment_instances([long_input], spec)
    assert [i.perturbation.name for i in out if i.perturbation] == ["typos"] * 3 + ["lowercase"] * 3
    assert {i.id for i in out} == {"id5"}
    assert len({i.input for i in out[:3]}) == 3  # one seed index each: three different typo patterns
    assert augment_instances([long_input], spec) == out  # and the same on every call


def test_chain_entry() -> None:
    spec = DataAugmenterSpec(perturbation_specs=((LOWERCASE, EXTRA_SPACE),), should_augment_eval_instances=True)
    assert summary(augment_instances([EVAL1], spec)) == [("id1", "lowercase+extra_space", "eval   one")]


def test_missing_id_is_refused_only_where_augmenting() -> None:
    no_id = Instance(input="x", split="test")
    spec = DataAugmenterSpec(perturbation_specs=(LOWERCASE,), should_augment_eval_instances=True)
    with pytest.raises(ValueError, match="without id"):
        augment_instances([no_id], spec)
    train_no_id = Instance(input="x", split="train")
    assert augment_instances([train_no_id], spec) == [train_no_id]


def test_unknown_perturbation_raises_lookup_error() -> None:
    spec = DataAugmenterSpec(perturbation_specs=(PerturbationSpec(name="nope"),), should_augment_eval_instances=True)
    with pytest.raises(LookupError, match="unknown perturbation 'nope'"):
        augment_instances(INSTANCES, spec)


def test_skip_unchanged_looks_at_the_input_only_as_helm_does() -> None:
    # gender rewrites the reference " his " but finds nothing in the input: HELM drops such a copy.
    instance = Instance(input="Nobody here", references=(Reference(output=" his ", tags=("correct",)),), id="id3")
    spec = DataAugmenterSpec(
        perturbation_specs=(PerturbationSpec(name="gender"),),
        should_augment_eval_instances=True,
        should_include_original_eval=True,
        should_skip_unchanged_eval=True,
    )
    assert augment_instances([instance], spec) == [instance]


def test_data_files_are_fetched_into_the_data_dir_only_when_augmenting(tmp_path: Path) -> None:
    dialect = DataAugmenterSpec(perturbation_specs=(PerturbationSpec(name="dialect"),))
    # Not augmenting: nothing is fetched (an empty folder would otherwise fail offline).
    assert augment_instances(INSTANCES, dialect, tmp_path / "empty") == INSTANCES
    on = dialect.model_copy(update={"should_augment_eval_instances": True})
    out = augment_instances([EVAL1.model_copy(update={"input": "So with you"})], on, place_helm_data(tmp_path))
    assert out[0].input in ("So wit you", "So wif you")
