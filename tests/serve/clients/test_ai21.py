"""The ai21 client (httpx) against a fake AI21 Studio server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from bench import Credentials, Request
from bench.models import ModelDeployment
from serve import RetryConfig
from serve.clients import AI21Client, Retrier
from tests.serve.fake_ai21 import FakeAI21
from tests.serve.fake_openai import Fault

KEY = "ai21-test-key-0123456789"
FAST = RetryConfig(max_attempts=3, max_total_seconds=5.0, initial_backoff_seconds=0.01, max_backoff_seconds=0.02)


@pytest.fixture
def server() -> Iterator[FakeAI21]:
    with FakeAI21(api_key=KEY) as fake:
        yield fake


def make_client(server: FakeAI21, **client_args: Any) -> AI21Client:
    deployment = ModelDeployment(
        name="ai21/j2-ultra",
        client="ai21",
        tokenizer="openai/cl100k_base",
        context_window=8192,
        client_args={"base_url": server.base_url, **client_args},
    )
    return AI21Client(deployment, credentials=Credentials({"ai21ApiKey": SecretStr(KEY)}), retrier=Retrier(FAST))


def test_complete_translates_tokens(server: FakeAI21) -> None:
    result = make_client(server).make_request(Request(model="ai21/j2-ultra", prompt="Hello world", max_tokens=2))
    (output,) = result.completions
    assert output.text == " Paris\n" and output.finish_reason == "length"
    assert [t.text for t in output.tokens] == [" Paris", "\n"]  # '▁' and '<|newline|>' decoded
    assert [t.logprob for t in output.tokens] == [-0.5, -1.0]  # raw_logprob, not the tempered logprob
    sent = server.requests[-1]
    assert sent.path == "/studio/v1/j2-ultra/complete" and sent.authorization == f"Bearer {KEY}"
    assert sent.body == {
        "prompt": "Hello world",
        "numResults": 1,
        "maxTokens": 2,
        "temperature": 1.0,
        "topP": 1.0,
        "topKReturn": 1,
        "stopSequences": [],
    }


def test_echo_prepends_prompt_tokens_and_trims_the_empty_marker(server: FakeAI21) -> None:
    request = Request(model="ai21/j2-ultra", prompt="Hello world", max_tokens=1, echo_prompt=True, top_k_per_token=2)
    (output,) = make_client(server).make_request(request).completions
    assert output.text == "Hello world Paris"
    # the zero-length '▁' becomes "", '▁Hello' at 0..5 is "Hello" (its '▁' marks the start, not a space)
    assert [t.text for t in output.tokens] == ["", "Hello", " world", " Paris"]
    assert output.logprob == pytest.approx(-4.5)
    assert output.tokens[3].top_logprobs == {" Paris": -0.5, " alt1": -1.5}


def test_chat_api(server: FakeAI21) -> None:
    result = make_client(server, api="chat", model="jamba-1.5-mini").make_request(
        Request(model="ai21/j2-ultra", prompt="Hi", num_completions=2, stop_sequences=("\n",))
    )
    assert [c.text for c in result.completions] == ["answer 0", "answer 1"]
    body = server.requests[-1].body
    assert body["model"] == "jamba-1.5-mini" and body["messages"] == [{"role": "user", "content": "Hi"}]
    assert body["stop"] == ["\n"] and body["n"] == 2


def test_retries_then_fatal_error_with_providers_detail(server: FakeAI21) -> None:
    server.fail_next(Fault(status=503), Fault(drop=True))
    assert make_client(server).make_request(Request(model="ai21/j2-ultra", prompt="a b", max_tokens=1)).success
    assert len(server.requests) == 3
    server.fail_next(Fault(status=422))
    result = make_client(server).make_request(Request(model="ai21/j2-ultra", prompt="a b"))
    assert (result.success, result.error_kind) == (False, "fatal")
    assert "HTTP 422" in (result.error or "")


def test_wrong_key_is_fatal_and_not_shown(server: FakeAI21) -> None:
    deployment = ModelDeployment(
        name="ai21/j2-ultra", client="ai21", tokenizer="t", context_window=10, client_args={"base_url": server.base_url}
    )
    client = AI21Client(deployment, credentials=Credentials({"ai21ApiKey": SecretStr("wrong-secret-key")}))
    result = client.make_request(Request(model="ai21/j2-ultra", prompt="x"))
    assert result.error == "ai21/j2-ultra: provider answered HTTP 401: Forbidden" and result.error_kind == "fatal"
