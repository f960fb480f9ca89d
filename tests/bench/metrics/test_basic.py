"""basic: request_failed makes failures visible; generation details of the first completion."""

from __future__ import annotations

import pytest

from bench import Stat
from bench.metrics import create_metric
from tests.bench.metrics.builders import FAILED, completion, context, echo_state, generation_state, instance, success

INST = instance(["Paris"], correct=[0])


def by_name(stats: list[Stat]) -> dict[str, float]:
    return {s.name.name: s.sum for s in stats}


def test_generation_stats() -> None:
    result = success(
        completion("Paris is", [-0.5, -0.25], finish_reason="length"),
        completion("Rome", [-2.0], finish_reason="stop"),
    )
    state = generation_state(INST, "", result=result).model_copy(
        update={"num_train_instances": 3, "prompt_truncated": True}
    )
    stats = by_name(create_metric("basic", {}).evaluate_instance([state], context()))
    # logprob and num_output_tokens come from the first completion only: -0.5 - 0.25, 2 tokens.
    # finish reasons are fractions over both completions: length 1/2, stop 1/2.
    assert stats == {
        "request_failed": 0.0,
        "num_train_instances": 3.0,
        "prompt_truncated": 1.0,
        "num_completions": 2.0,
        "logprob": -0.75,
        "num_output_tokens": 2.0,
        "finish_reason_length": 0.5,
        "finish_reason_stop": 0.5,
        "finish_reason_endoftext": 0.0,
        "finish_reason_unknown": 0.0,
    }


def test_failed_request_is_reported_not_scored() -> None:
    stats = by_name(create_metric("basic", {}).evaluate_instance([generation_state(INST, "", FAILED)], context()))
    assert stats == {"request_failed": 1.0, "num_train_instances": 0.0, "prompt_truncated": 0.0}


def test_one_failed_reference_request_fails_the_instance() -> None:
    states = [
        echo_state(INST, [-1.0], 0, reference_index=0),
        echo_state(INST, [-1.0], 0, reference_index=1).model_copy(update={"result": None}),
    ]
    stats = by_name(create_metric("basic", {}).evaluate_instance(states, context("multiple_choice_separate_original")))
    # No generation details for multiple choice.
    assert stats == {"request_failed": 1.0, "num_train_instances": 0.0, "prompt_truncated": 0.0}


def test_logprob_falls_back_to_the_completion_field_without_tokens() -> None:
    result = success(completion("Paris"))  # no tokens, logprob field 0
    stats = by_name(create_metric("basic", {}).evaluate_instance([generation_state(INST, "", result)], context()))
    assert stats["logprob"] == 0.0
    assert stats["num_output_tokens"] == 0.0
    assert stats["finish_reason_unknown"] == pytest.approx(1.0)
