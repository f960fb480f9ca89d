"""dry_run: request counts, token counts and cost from the requests alone."""

from __future__ import annotations

import pytest

from bench import ChatMessage, Request
from bench.adaptation import RequestState
from bench.metrics import create_metric
from tests.bench.metrics.builders import MODEL, context, instance

INST = instance(["x"], correct=[0])


def test_sums_over_request_states_without_results() -> None:
    request = Request(model=MODEL, prompt="a b c", max_tokens=5, num_completions=2)
    states = [RequestState(instance=INST, request=request)] * 2
    stats = {s.name.name: s.sum for s in create_metric("dry_run", {}).evaluate_instance(states, context())}
    # per state: 3 prompt tokens, 5 * 2 = 10 output tokens; two states -> 6 and 20
    # cost = (6 * $2 + 20 * $10) / 1e6 = $0.000212
    assert stats == pytest.approx(
        {
            "num_requests": 2,
            "num_prompt_tokens": 6,
            "max_num_output_tokens": 20,
            "estimated_number_of_tokens": 26,
            "estimated_cost": 212e-6,
        }
    )


def test_chat_messages_are_counted() -> None:
    messages = (ChatMessage(role="system", content="be brief"), ChatMessage(role="user", content="hi there"))
    state = RequestState(instance=INST, request=Request(model=MODEL, messages=messages, max_tokens=0))
    stats = {s.name.name: s.sum for s in create_metric("dry_run", {}).evaluate_instance([state], context())}
    # "be brief\nhi there" -> "be", " brief", "\nhi", " there" = 4 tokens
    assert stats["num_prompt_tokens"] == 4
    assert stats["estimated_cost"] == pytest.approx(8e-6)
