"""The data model round-trips through JSON, so that a run is fully described by files."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bench import (
    ChatMessage,
    GeneratedOutput,
    Instance,
    MetricSpec,
    PerturbationDescription,
    Reference,
    Request,
    RequestResult,
    ScenarioSpec,
    Token,
)
from bench.adaptation import AdapterSpec, RequestState, ScenarioState


def _request_state() -> RequestState:
    instance = Instance(
        input="2+2=",
        references=(Reference(output="4", tags=("correct",)), Reference(output="5")),
        split="test",
        id="id3",
        perturbation=PerturbationDescription(name="typos", robustness=True, args={"prob": 0.1}),
    )
    request = Request(
        model="simple/model1",
        prompt="2+2=",
        messages=(ChatMessage(role="user", content="hi"),),
        stop_sequences=("\n",),
        random="r1",
    )
    result = RequestResult(
        success=True,
        completions=(
            GeneratedOutput(text="4", logprob=-0.1, tokens=(Token(text="4", logprob=-0.1, top_logprobs={"4": -0.1}),)),
        ),
        request_time=0.25,
    )
    return RequestState(instance=instance, request=request, result=result, output_mapping={"A": "4"})


def test_request_state_round_trip() -> None:
    state = _request_state()
    assert RequestState.model_validate_json(state.model_dump_json()) == state


def test_scenario_state_round_trip() -> None:
    scenario_state = ScenarioState(adapter_spec=AdapterSpec(method="generation"), request_states=[_request_state()])
    assert ScenarioState.model_validate_json(scenario_state.model_dump_json()) == scenario_state


def test_object_specs_round_trip_and_describe() -> None:
    spec = ScenarioSpec(name="lpm", args={"difficulty": "easy"})
    assert ScenarioSpec.model_validate_json(spec.model_dump_json()) == spec
    assert spec.describe() == "lpm:difficulty=easy"
    assert hash(spec) == hash(ScenarioSpec(name="lpm", args={"difficulty": "easy"}))
    assert MetricSpec(name="basic").describe() == "basic"


def test_reference_correctness() -> None:
    instance = _request_state().instance
    assert instance.first_correct_reference == Reference(output="4", tags=("correct",))
    assert [r.output for r in instance.all_correct_references] == ["4"]


def test_request_rejects_bad_values() -> None:
    with pytest.raises(ValidationError, match="num_completions"):
        Request(model="simple/model1", num_completions=0)
    with pytest.raises(ValidationError, match="extra"):
        Request.model_validate({"model": "m", "unknown_field": 1})


def test_failure_result() -> None:
    result = RequestResult.failure("rate limited", retriable=True)
    assert (result.success, result.error_kind, result.error) == (False, "retriable", "rate limited")


def test_request_is_frozen_and_hashable() -> None:
    request = Request(model="simple/model1", prompt="x")
    assert hash(request) == hash(Request(model="simple/model1", prompt="x"))
    with pytest.raises(ValidationError):
        request.prompt = "y"  # type: ignore[misc]
