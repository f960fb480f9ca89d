"""efficiency: runtime, prompt and generated tokens, cache use, summed over an instance's requests."""

from __future__ import annotations

from bench import Request, Stat
from bench.adaptation import RequestState
from bench.metrics import create_metric
from tests.bench.metrics.builders import (
    FAILED,
    MODEL,
    completion,
    context,
    echo_state,
    generation_state,
    instance,
    success,
)

INST = instance(["Paris"], correct=[0])


def with_result(state: RequestState, **fields: object) -> RequestState:
    """`state` with some fields of its result replaced."""
    assert state.result is not None
    return state.with_result(state.result.model_copy(update=fields))


def by_name(stats: list[Stat]) -> dict[str, float]:
    return {s.name.name: s.sum for s in stats}


def test_generation_request() -> None:
    # prompt "Input: question?\nOutput:" -> word pieces "Input:", " question?", "\nOutput:" = 3 tokens
    # two completions of 2 and 1 tokens -> 3 completion tokens
    result = success(completion("Paris is", [-0.5, -0.25]), completion("Rome", [-1.0]), request_time=0.5, cached=True)
    stats = by_name(create_metric("efficiency", {}).evaluate_instance([generation_state(INST, "", result)], context()))
    assert stats == {"num_prompt_tokens": 3.0, "num_completion_tokens": 3.0, "inference_runtime": 0.5, "cached": 1.0}


def test_echoed_prompt_tokens_are_not_completion_tokens() -> None:
    # Two echo requests (max_tokens=0), prompts " t0 t1" and " t0": 2 + 1 prompt tokens, 0 generated.
    # One was cached and one not -> cached 0; runtimes 0.25 + 0.5.
    first = with_result(echo_state(INST, [-1.0, -1.0], 1, reference_index=0), request_time=0.25, cached=True)
    second = with_result(echo_state(INST, [-1.0], 0, reference_index=1), request_time=0.5)
    stats = by_name(create_metric("efficiency", {}).evaluate_instance([first, second], context()))
    assert stats == {"num_prompt_tokens": 3.0, "num_completion_tokens": 0.0, "inference_runtime": 0.75, "cached": 0.0}


def test_echo_with_generation_subtracts_the_prompt() -> None:
    # prompt "a b" (2 tokens) echoed, then 1 generated token: 3 returned tokens - 2 = 1
    request = Request(model=MODEL, prompt="a b", echo_prompt=True, max_tokens=1)
    state = generation_state(INST, "", success(completion("a b c", [-1.0, -1.0, -1.0]))).model_copy(
        update={"request": request}
    )
    stats = by_name(create_metric("efficiency", {}).evaluate_instance([state], context()))
    assert stats["num_completion_tokens"] == 1.0


def test_missing_time_and_missing_result_are_skipped() -> None:
    no_result = generation_state(INST, "").model_copy(update={"result": None})
    stats = by_name(create_metric("efficiency", {}).evaluate_instance([no_result], context()))
    assert stats == {"num_prompt_tokens": 3.0, "num_completion_tokens": 0.0}
    failed = by_name(create_metric("efficiency", {}).evaluate_instance([generation_state(INST, "", FAILED)], context()))
    assert failed == {"num_prompt_tokens": 3.0, "num_completion_tokens": 0.0, "cached": 0.0}
