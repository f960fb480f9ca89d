"""Named data augmentations: each resolves, contents as documented, JSON round trip."""

from __future__ import annotations

import pytest

from bench import PerturbationSpec
from bench.augmentation import (
    DATA_AUGMENTATIONS,
    PERTURBATIONS,
    DataAugmenterSpec,
    create_perturbation,
    data_augmentation,
    get_data_augmenter_spec,
)

TYPOS = PerturbationSpec(name="typos", args={"prob": 0.1})
LOWERCASE = PerturbationSpec(name="lowercase")


def names(spec: DataAugmenterSpec) -> list[str]:
    return [create_perturbation(step).name for step in spec.perturbation_specs]


def test_every_preset_resolves_and_builds() -> None:
    for name in DATA_AUGMENTATIONS.names():
        spec = get_data_augmenter_spec(name)
        assert spec.should_augment_eval_instances and spec.should_include_original_eval
        assert spec.should_skip_unchanged_eval and not spec.should_augment_train_instances
        assert spec.perturbation_specs
        for step in spec.perturbation_specs:
            create_perturbation(step)


def test_robustness_preset() -> None:
    spec = get_data_augmenter_spec("robustness")
    assert names(spec) == ["typos", "extra_space", "lowercase", "contraction", "filler_words", "lowercase+typos"]
    assert spec.perturbation_specs[0] == TYPOS  # default args written out
    assert spec.perturbation_specs[-1] == (LOWERCASE, TYPOS)


def test_fairness_canonical_and_all_presets() -> None:
    assert names(get_data_augmenter_spec("fairness")) == ["gender", "dialect"]
    canonical = names(get_data_augmenter_spec("canonical"))
    assert canonical == [*names(get_data_augmenter_spec("robustness")), "gender", "dialect"]
    assert names(get_data_augmenter_spec("all")) == PERTURBATIONS.names()


def test_one_preset_per_perturbation() -> None:
    for name in PERTURBATIONS.names():
        assert names(get_data_augmenter_spec(name)) == [name]
    assert get_data_augmenter_spec("typos").perturbation_specs == (TYPOS,)


def test_unknown_preset_names_nearest() -> None:
    with pytest.raises(LookupError, match=r"unknown data augmentation 'robustnes'; did you mean 'robustness'"):
        get_data_augmenter_spec("robustnes")


@pytest.mark.usefixtures("restore_augmentation_registries")
def test_plugin_preset() -> None:
    @data_augmentation("shouting")
    def shouting() -> DataAugmenterSpec:
        return DataAugmenterSpec(perturbation_specs=(LOWERCASE,), should_augment_eval_instances=True)

    assert get_data_augmenter_spec("shouting").perturbation_specs == (LOWERCASE,)


def test_json_round_trip_with_a_chain() -> None:
    spec = DataAugmenterSpec(
        perturbation_specs=(TYPOS, (LOWERCASE, PerturbationSpec(name="gender", args={"prob": 0.5}))),
        should_augment_eval_instances=True,
        seeds_per_instance=2,
    )
    text = spec.model_dump_json()
    assert '[{"name":"lowercase","args":{}},{"name":"gender","args":{"prob":0.5}}]' in text  # a chain is a list
    again = DataAugmenterSpec.model_validate_json(text)
    assert again == spec
    assert isinstance(again.perturbation_specs[1], tuple)
    assert create_perturbation(again.perturbation_specs[1]).name == "lowercase+gender"


def test_loading_builtins_again_is_harmless() -> None:
    from bench.augmentation import _builtins

    before = DATA_AUGMENTATIONS.names()
    _builtins.load()  # presets already registered are not registered twice (that would raise)
    assert DATA_AUGMENTATIONS.names() == before
