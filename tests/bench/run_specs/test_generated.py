"""Run-spec functions of the generated scenarios: valid RunSpecs, right scenario arguments, JSON round trip."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args, get_type_hints

import pytest
from pydantic import TypeAdapter

from bench.run_specs import RUN_SPEC_FUNCTIONS, RunSpec, read_run_specs_conf
from bench.scenarios import create_scenario
from bench.scenarios._lpm import DIFFICULTIES
from bench.scenarios._numeracy import MODES as NUMERACY_MODES
from bench.scenarios._numeracy import RELATIONS
from bench.scenarios._synthetic_reasoning import MODES

CONF = Path(__file__).parents[3] / "configs" / "run_specs.conf"

CASES: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    (
        "simple1",
        {},
        "simple1:num_input_tokens=5,num_test_instances=100,num_train_instances=10,vocab_size=20",
        {"num_input_tokens": 5, "vocab_size": 20, "num_train_instances": 10, "num_test_instances": 100},
    ),
    ("lpm", {"difficulty": "medium"}, "lpm:difficulty=medium", {"difficulty": "medium"}),
    ("synthetic_reasoning", {}, "synthetic_reasoning:mode=pattern_match", {"mode": "pattern_match"}),
    (
        "numeracy",
        {"relation_type": "plane"},
        "numeracy:mode=function,relation_type=plane",
        {"relation_type": "plane", "mode": "function"},
    ),
    ("dyck_language", {}, "dyck_language:num_parenthesis_pairs=3", {"num_parenthesis_pairs": 3}),
]


@pytest.mark.parametrize(("entry", "kwargs", "name", "scenario_args"), CASES)
def test_run_spec(entry: str, kwargs: dict[str, Any], name: str, scenario_args: dict[str, Any]) -> None:
    run_spec = RUN_SPEC_FUNCTIONS.get(entry)(**kwargs)
    assert run_spec.name == name
    assert run_spec.scenario_spec.name == entry
    assert run_spec.scenario_spec.args == scenario_args
    assert run_spec.adapter_spec.method == "generation"
    assert run_spec.adapter_spec.model == "simple/model1"  # the placeholder the expander replaces
    assert run_spec.adapter_spec.stop_sequences == ("\n",)
    assert run_spec.groups
    assert run_spec.metric_specs[0].name == "reference_match"
    assert "exact_match" in run_spec.metric_specs[0].args["names"]
    # The spec names a scenario that builds with those arguments.
    create_scenario(run_spec.scenario_spec.name, run_spec.scenario_spec.args)
    assert RunSpec.model_validate_json(run_spec.model_dump_json()) == run_spec


def test_simple1_scores_the_exact_match_family_as_helm() -> None:
    run_spec = RUN_SPEC_FUNCTIONS.get("simple1")()
    assert run_spec.metric_specs[0].args == {
        "names": ["exact_match", "quasi_exact_match", "prefix_exact_match", "quasi_prefix_exact_match"]
    }


def test_dyck_language_leaves_out_normalized_matches() -> None:
    # Normalization strips punctuation, brackets included: every answer would match an empty gold.
    run_spec = RUN_SPEC_FUNCTIONS.get("dyck_language")(num_parenthesis_pairs=2)
    assert run_spec.metric_specs[0].args == {"names": ["exact_match", "prefix_exact_match"]}
    assert run_spec.scenario_spec.args == {"num_parenthesis_pairs": 2}


def test_numeracy_prompt_parts_depend_on_the_relation_and_mode() -> None:
    function = RUN_SPEC_FUNCTIONS.get("numeracy")(relation_type="linear")
    assert function.adapter_spec.output_prefix == ", y = "
    assert function.adapter_spec.max_train_instances == 0  # the instance carries its own points
    assert "y = a*x + b with small whole numbers a and b" in function.adapter_spec.instructions
    standard = RUN_SPEC_FUNCTIONS.get("numeracy")(relation_type="paraboloid", mode="standard")
    assert standard.adapter_spec.output_prefix == ", z = "
    assert standard.adapter_spec.max_train_instances == 20
    assert standard.adapter_spec.instance_prefix == ""


def test_lpm_hard_asks_to_join_answers() -> None:
    assert "join them with 'and'" in RUN_SPEC_FUNCTIONS.get("lpm")(difficulty="hard").adapter_spec.instructions
    assert "join" not in RUN_SPEC_FUNCTIONS.get("lpm")().adapter_spec.instructions


def test_signature_choices_are_the_scenarios_choices() -> None:
    # The run-entry parser validates user input against these annotations.
    def choices(entry: str, argument: str) -> tuple[Any, ...]:
        return get_args(get_type_hints(RUN_SPEC_FUNCTIONS.get(entry))[argument])

    assert choices("lpm", "difficulty") == DIFFICULTIES
    assert choices("synthetic_reasoning", "mode") == MODES
    assert choices("numeracy", "mode") == NUMERACY_MODES
    assert choices("numeracy", "relation_type") == tuple(RELATIONS)
    assert get_type_hints(RUN_SPEC_FUNCTIONS.get("dyck_language"))["num_parenthesis_pairs"] is int


def test_bad_arguments_fail_when_the_spec_is_built() -> None:
    with pytest.raises(ValueError, match="difficulty 'extreme' is not valid; choose one of: easy, medium, hard"):
        RUN_SPEC_FUNCTIONS.get("lpm")(difficulty="extreme")
    with pytest.raises(ValueError, match="num_parenthesis_pairs must be between 1 and 4, got 7"):
        RUN_SPEC_FUNCTIONS.get("dyck_language")(num_parenthesis_pairs=7)


@pytest.mark.parametrize("suite", ["demo", "generated"])
def test_conf_entries_build(suite: str) -> None:
    entries = read_run_specs_conf(CONF)[suite]
    assert entries
    names = set()
    for entry in entries:
        name, _, rest = entry.description.partition(":")
        function = RUN_SPEC_FUNCTIONS.get(name)
        hints = get_type_hints(function)
        raw = dict(pair.split("=", 1) for pair in rest.split(",") if pair)
        run_spec = function(**{k: TypeAdapter(hints[k]).validate_python(v) for k, v in raw.items()})
        names.add(run_spec.name)
    assert len(names) == len(entries)  # no two entries of a suite are the same run


def test_demo_suite_has_one_entry_per_generated_scenario() -> None:
    demo = [e.description.partition(":")[0] for e in read_run_specs_conf(CONF)["demo"]]
    assert demo == ["simple1", "lpm", "synthetic_reasoning", "numeracy", "dyck_language"]
