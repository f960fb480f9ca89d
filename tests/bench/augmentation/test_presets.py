"""Named data augmentations: HELM's presets expand to HELM's lists; Mercury's own; JSON round trip."""

from __future__ import annotations

from typing import Any

import pytest

from bench import PerturbationSpec
from bench.augmentation import (
    DATA_AUGMENTATIONS,
    PERTURBATIONS,
    DataAugmenterSpec,
    create_perturbation,
    data_augmentation,
    get_data_augmentations,
    get_data_augmenter_spec,
)

TYPOS = PerturbationSpec(name="typos", args={"prob": 0.1})
LOWERCASE = PerturbationSpec(name="lowercase")

# HELM 0.5.16's run_expander.py, transcribed: preset -> {run-name part: [(perturbation, args HELM passes)]}.
DIALECT = ("dialect", {"prob": 1.0, "source_class": "SAE", "target_class": "AAVE"})
GENDER = ("gender", {"mode": "pronouns", "prob": 1.0, "source_class": "male", "target_class": "female"})
PERSON = ("person_name", {
    "prob": 1.0, "source_class": {"race": "white_american"}, "target_class": {"race": "black_american"},
    "person_name_type": "first_name", "preserve_gender": True,
})  # fmt: skip
HELM_PRESETS: dict[str, dict[str, list[tuple[str, dict[str, Any]]]]] = {
    "robustness": {"robustness": [("mild_mix", {})]},
    "fairness": {"fairness": [DIALECT, GENDER, PERSON]},
    "canonical": {"canonical": [("mild_mix", {}), DIALECT, GENDER, PERSON]},
    "extra_space": {"extra_space2": [("extra_space", {"num_spaces": 2})]},
    "space": {"space3": [("space", {"max_spaces": 3})]},
    "lower": {"lower": [("lowercase", {})]},
    "contract": {"contract": [("contraction", {}), ("expansion", {})]},
    "filler": {"filler0.3": [("filler_words", {"insert_prob": 0.3, "speaker_ph": False})]},
    "misspelling_mild": {"misspelling0.05": [("misspellings", {"prob": 0.05})]},
    "misspelling_medium": {"misspelling0.20": [("misspellings", {"prob": 0.20})]},
    "misspelling_hard": {"misspelling0.5": [("misspellings", {"prob": 0.5})]},
    "misspelling_sweep": {f"misspelling{p}": [("misspellings", {"prob": p})] for p in [0, 0.05, 0.2, 0.5]},
    "typo_easy": {"typo0.1": [("typos", {"prob": 0.1})]},
    "typo_medium": {"typo0.3": [("typos", {"prob": 0.3})]},
    "typo_hard": {"typo0.5": [("typos", {"prob": 0.5})]},
    "dialect_easy": {"dialect_easy_prob=0.1_source=SAE_target=AAVE": [("dialect", {**DIALECT[1], "prob": 0.1})]},
    "dialect_medium": {"dialect_prob=0.3_source=SAE_target=AAVE": [("dialect", {**DIALECT[1], "prob": 0.3})]},
    "dialect_hard": {"dialect_prob=0.5_source=SAE_target=AAVE": [("dialect", {**DIALECT[1], "prob": 0.5})]},
    "dialect_deterministic": {"dialect_prob=1.0_source=SAE_target=AAVE": [DIALECT]},
    "person_name_first_hard_preserve_gender": {
        "person_name_first_prob=0.5_source=white_target=black_preserve_gender=True": [
            ("person_name", {**PERSON[1], "prob": 0.5})
        ]
    },
    "person_name_first_hard_dont_preserve_gender": {
        "person_name_first_prob=0.5_source=white_target=black_preserve_gender=False": [
            ("person_name", {**PERSON[1], "prob": 0.5, "preserve_gender": False})
        ]
    },
    "person_name_first_deterministic": {
        "person_name_first_prob=1.0_source=white_target=black_preserve_gender=True": [PERSON]
    },
    **{
        name: {
            f"person_name_last_prob={prob}_source=white_target=hispanic": [
                (
                    "person_name",
                    {
                        "prob": prob,
                        "source_class": {"race": "white"},
                        "target_class": {"race": "hispanic"},
                        "person_name_type": "last_name",
                        "preserve_gender": False,
                    },
                )
            ]
        }
        for name, prob in (("person_name_last_deterministic", 1.0), ("person_name_last_hard", 0.5))
    },
    **{
        f"gender_{mode}_{level}": {
            f"gender_{mode}_prob={prob}_source=male_target=female": [
                ("gender", {"mode": mode, "prob": prob, "source_class": "male", "target_class": "female"})
            ]
        }
        for mode in ("terms", "pronouns")
        for level, prob in (("easy", 0.1), ("medium", 0.3), ("hard", 0.5), ("deterministic", 1.0))
    },
}


def full_spec(name: str, args: dict[str, Any]) -> PerturbationSpec:
    """HELM's args with Mercury's defaults for the rest written out (as a preset writes them)."""
    spec = create_perturbation(PerturbationSpec(name=name, args=args)).to_spec()
    assert isinstance(spec, PerturbationSpec)
    return spec


@pytest.mark.parametrize("preset", sorted(HELM_PRESETS))
def test_helm_preset_expands_to_helms_runs_and_lists(preset: str) -> None:
    runs = get_data_augmentations(preset)
    expected = HELM_PRESETS[preset]
    assert list(runs) == list(expected)
    for run, steps in expected.items():
        spec = runs[run]
        assert spec.perturbation_specs == tuple(full_spec(name, args) for name, args in steps)
        for step, (_, args) in zip(spec.perturbation_specs, steps, strict=True):
            assert isinstance(step, PerturbationSpec) and args.items() <= step.args.items()  # HELM's args kept
        # HELM's switches: eval only, originals kept, unchanged skipped, one seed.
        assert spec == DataAugmenterSpec(
            perturbation_specs=spec.perturbation_specs,
            should_include_original_train=True,
            should_skip_unchanged_train=True,
            should_augment_eval_instances=True,
            should_include_original_eval=True,
            should_skip_unchanged_eval=True,
        )


def test_every_preset_resolves_and_builds() -> None:
    for name in DATA_AUGMENTATIONS.names():
        for spec in get_data_augmentations(name).values():
            assert spec.should_augment_eval_instances and spec.should_include_original_eval
            assert spec.should_skip_unchanged_eval and not spec.should_augment_train_instances
            assert spec.perturbation_specs
            for step in spec.perturbation_specs:
                create_perturbation(step)


def test_mercury_presets_all_and_one_per_perturbation() -> None:
    assert [create_perturbation(s).name for s in get_data_augmenter_spec("all").perturbation_specs] == (
        PERTURBATIONS.names()
    )
    for name in PERTURBATIONS.names():
        if name not in HELM_PRESETS:  # "extra_space" and "space" are HELM's presets
            assert [create_perturbation(s).name for s in get_data_augmenter_spec(name).perturbation_specs] == [name]
    assert get_data_augmenter_spec("typos").perturbation_specs == (TYPOS,)


def test_a_preset_of_several_runs_is_not_one_spec() -> None:
    with pytest.raises(ValueError, match=r"'misspelling_sweep' makes 4 runs \(misspelling0, misspelling0.05"):
        get_data_augmenter_spec("misspelling_sweep")


def test_unknown_preset_names_nearest() -> None:
    with pytest.raises(LookupError, match=r"unknown data augmentation 'robustnes'; did you mean 'robustness'"):
        get_data_augmenter_spec("robustnes")


@pytest.mark.usefixtures("restore_augmentation_registries")
def test_plugin_preset() -> None:
    @data_augmentation("shouting")
    def shouting() -> DataAugmenterSpec:
        return DataAugmenterSpec(perturbation_specs=(LOWERCASE,), should_augment_eval_instances=True)

    assert get_data_augmenter_spec("shouting").perturbation_specs == (LOWERCASE,)
    assert list(get_data_augmentations("shouting")) == ["shouting"]


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
