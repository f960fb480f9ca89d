"""The OpenAI-compatible API with the official `openai` client pointed at the proxy (HTTP on loopback)."""

from __future__ import annotations

import openai
import pytest

from tests.serve.conftest import LiveProxy
from tests.serve.fake_openai import Fault


def client(proxy: LiveProxy, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy.url + "/v1", api_key=key or proxy.admin_key, max_retries=0)


def test_models_lists_served_models(live_proxy: LiveProxy) -> None:
    ids = {m.id for m in client(live_proxy).models.list()}
    assert ids == {"simple/model1", "openai/fake", "openai/limited", "openai/chatty"}


def test_completions_with_logprobs_and_usage(live_proxy: LiveProxy) -> None:
    answer = client(live_proxy).completions.create(
        model="simple/model1", prompt="the cat sat", max_tokens=2, temperature=0, logprobs=1
    )
    choice = answer.choices[0]
    assert choice.text == " sat\n" and choice.finish_reason == "length"
    assert choice.logprobs is not None and choice.logprobs.tokens == [" sat", "\n"]
    assert choice.logprobs.text_offset == [0, 4]
    assert answer.usage is not None and (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (3, 2)


def test_completions_through_a_hosted_model_with_stop_and_n(live_proxy: LiveProxy) -> None:
    answer = client(live_proxy).completions.create(
        model="openai/fake", prompt="Q", max_tokens=5, n=2, stop=[" capital"], temperature=0
    )
    assert [c.text for c in answer.choices] == [" Paris is the"] * 2
    assert [c.finish_reason for c in answer.choices] == ["stop", "stop"]
    assert live_proxy.fake.requests[0].body["stop"] == [" capital"]


def test_chat_completions_with_top_logprobs(live_proxy: LiveProxy) -> None:
    answer = client(live_proxy).chat.completions.create(
        model="openai/chatty",
        messages=[{"role": "user", "content": "Capital of France?"}],
        max_tokens=2,
        logprobs=True,
        top_logprobs=2,
    )
    choice = answer.choices[0]
    assert choice.message.content == " Paris is" and choice.message.role == "assistant"
    assert choice.logprobs is not None and choice.logprobs.content is not None
    first = choice.logprobs.content[0]
    assert (first.token, first.logprob) == (" Paris", pytest.approx(-0.1))
    assert [t.token for t in first.top_logprobs] == [" Paris", " alt1"]


def test_streaming_completions_in_chunks(live_proxy: LiveProxy) -> None:
    stream = client(live_proxy).completions.create(
        model="simple/model1", prompt="the cat sat", max_tokens=2, temperature=0, stream=True
    )
    chunks = list(stream)
    assert "".join(c.choices[0].text for c in chunks) == " sat\n"
    assert [c.choices[0].text for c in chunks] == [" sat", "\n", ""]
    assert chunks[-1].choices[0].finish_reason == "length"


def test_streaming_chat_in_chunks(live_proxy: LiveProxy) -> None:
    stream = client(live_proxy).chat.completions.create(
        model="openai/chatty", messages=[{"role": "user", "content": "Hi"}], max_tokens=3, stream=True
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == " Paris is the"
    assert chunks[-1].choices[0].finish_reason == "length"


def test_errors_map_to_the_openai_client_exceptions(live_proxy: LiveProxy) -> None:
    with pytest.raises(openai.AuthenticationError, match="invalid API key"):
        client(live_proxy, key="wrong").models.list()
    with pytest.raises(openai.NotFoundError, match="unknown model 'no/such'"):
        client(live_proxy).completions.create(model="no/such", prompt="x")
    with pytest.raises(openai.BadRequestError, match="max_tokens"):
        client(live_proxy).completions.create(model="simple/model1", prompt="x", max_tokens=-1)
    live_proxy.fake.fail_next(*[Fault(status=503, message="overloaded")] * 3)
    with pytest.raises(openai.APIStatusError, match="overloaded") as failure:
        client(live_proxy).completions.create(model="openai/fake", prompt="x", max_tokens=1)
    assert failure.value.status_code == 502


def test_partial_character_tokens_keep_their_bytes_and_character_offsets() -> None:
    # "’" is two r50k tokens, named bytes:\xe2\x80 and bytes:\x99 (OpenAI's spelling, which the proxy passes on).
    from bench import GeneratedOutput, Token
    from serve._openai_api import _chat_logprobs, _completion_logprobs

    texts = ["It", "bytes:\\xe2\\x80", "bytes:\\x99", "s"]
    output = GeneratedOutput(text="It’s", logprob=-4.0, tokens=tuple(Token(text=t, logprob=-1.0) for t in texts))
    assert _completion_logprobs(output)["text_offset"] == [0, 2, 2, 3]
    assert [c["bytes"] for c in _chat_logprobs(output, 0)["content"]] == [[73, 116], [0xE2, 0x80], [0x99], [115]]
