"""Run entries: parsing, expansion of reserved keys, and errors refused before anything runs."""

from __future__ import annotations

import pytest

from bench import RunEntryError
from bench.models import models_in_group
from bench.run_specs import expand_run_entries, expand_run_entry, parse_run_entry


def test_parse_splits_scenario_args_and_reserved_keys() -> None:
    entry = parse_run_entry(" lpm:difficulty=hard, model=simple/model1,max_eval_instances=7 ")
    assert entry.name == "lpm"
    assert entry.args == {"difficulty": "hard"}
    assert entry.reserved == {"model": "simple/model1", "max_eval_instances": "7"}


def test_expansion_applies_reserved_keys() -> None:
    [run_spec] = expand_run_entry(
        "lpm:difficulty=hard,model=simple/model1,max_eval_instances=7,num_train_trials=3,max_train_instances=2"
    )
    assert run_spec.name == "lpm:difficulty=hard,model=simple_model1"
    assert run_spec.scenario_spec.args["difficulty"] == "hard"
    spec = run_spec.adapter_spec
    assert (spec.model, spec.max_eval_instances, spec.num_train_trials, spec.max_train_instances) == (
        "simple/model1",
        7,
        3,
        2,
    )


def test_typed_arguments_are_converted() -> None:
    [run_spec] = expand_run_entry("simple1:num_input_tokens=7,model=simple/model1")
    assert run_spec.scenario_spec.args["num_input_tokens"] == 7


def test_model_group_expands_to_one_run_per_model() -> None:
    run_specs = expand_run_entry("simple1:model=all")
    assert sorted(r.adapter_spec.model for r in run_specs) == sorted(models_in_group("all"))
    assert len({r.name for r in run_specs}) == len(run_specs) > 2


def test_default_model_and_max_eval_instances_from_flags() -> None:
    [run_spec] = expand_run_entry("dyck_language", default_model="simple/model1", default_max_eval_instances=4)
    assert run_spec.adapter_spec.model == "simple/model1"
    assert run_spec.adapter_spec.max_eval_instances == 4
    [explicit] = expand_run_entry("dyck_language:max_eval_instances=9", default_model="simple/model1",
                                  default_max_eval_instances=4)  # fmt: skip
    assert explicit.adapter_spec.max_eval_instances == 9


def test_data_augmentation_preset() -> None:
    [run_spec] = expand_run_entry("simple1:model=simple/model1,data_augmentation=robustness")
    assert run_spec.name.endswith(",data_augmentation=robustness")
    assert run_spec.data_augmenter_spec.should_augment_eval_instances
    assert run_spec.data_augmenter_spec.perturbation_specs


def test_data_augmentation_presets_name_their_runs_as_helm_does() -> None:
    # HELM's run expander names a run after the preset's run-name part; misspelling_sweep makes four runs.
    [extra_space] = expand_run_entry("simple1:model=simple/model1,data_augmentation=extra_space")
    assert extra_space.name == "simple1:model=simple_model1,data_augmentation=extra_space2"
    sweep = expand_run_entry("simple1:model=simple/model1,data_augmentation=misspelling_sweep")
    assert [r.name.rsplit("=", 1)[1] for r in sweep] == [
        "misspelling0", "misspelling0.05", "misspelling0.2", "misspelling0.5"
    ]  # fmt: skip
    assert [r.data_augmenter_spec.perturbation_specs[0].args for r in sweep] == [  # type: ignore[union-attr]
        {"prob": 0}, {"prob": 0.05}, {"prob": 0.2}, {"prob": 0.5}
    ]  # fmt: skip


def test_repeated_entries_give_each_model_once() -> None:
    run_specs = expand_run_entries(
        ["simple1:model=simple/model1", "simple1:model=local/smollm2-135m", "simple1:model=simple/model1"]
    )
    assert [r.adapter_spec.model for r in run_specs] == ["simple/model1", "local/smollm2-135m"]


def test_an_entry_without_a_model_runs_on_its_scenarios_default_unless_m_names_one() -> None:
    # the original benchmark's defaults: openai/davinci, except simple1, which runs on the simple model
    assert [r.adapter_spec.model for r in expand_run_entry("lpm:difficulty=easy")] == ["openai/davinci"]
    assert [r.adapter_spec.model for r in expand_run_entry("simple1")] == ["simple/model1"]
    assert [r.adapter_spec.model for r in expand_run_entry("simple1", default_model="openai/davinci")] == [
        "openai/davinci"
    ]
    assert [r.adapter_spec.model for r in expand_run_entry("lpm", default_model="simple/model1")] == ["simple/model1"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("", r"run entry '': the scenario name before ':' is empty"),
        ("lpm:difficulty", r"'difficulty' is not key=value"),
        ("lpm:=easy", r"'=easy' is not key=value"),
        ("lpm:difficulty=easy,difficulty=hard", r"key 'difficulty' is given twice"),
        ("simpel1:model=simple/model1", r"unknown scenario 'simpel1'; did you mean 'simple1'\?"),
        ("lpm:level=3,model=simple/model1", r"unknown argument 'level' for 'lpm' \(valid: difficulty, .*model"),
        ("lpm:difficulty=extreme,model=simple/model1", r"argument difficulty='extreme': Input should be 'easy'"),
        ("simple1:num_input_tokens=five,model=simple/model1", r"argument num_input_tokens='five': .*integer"),
        ("simple1:model=simple/model9", r"unknown model or model group 'simple/model9'; did you mean 'simple/model1'"),
        ("simple1:model=simple/model1,max_eval_instances=0", r"max_eval_instances='0' must be a positive integer"),
        ("simple1:model=simple/model1,num_train_trials=x", r"num_train_trials='x' must be a positive integer"),
        ("simple1:model=simple/model1,data_augmentation=typoss", r"unknown data augmentation 'typoss'; did you mean"),
    ],
)
def test_bad_entries_are_refused_with_a_clear_message(entry: str, message: str) -> None:
    with pytest.raises(RunEntryError, match=message) as raised:
        expand_run_entry(entry)
    assert str(raised.value).startswith(f"run entry {entry.strip()!r}")
