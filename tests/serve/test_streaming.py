"""Streaming through the OpenAI-compatible API with the `openai` library (HTTP on loopback, in-process
services): usage chunks, the cache and quotas on streamed answers, errors before and after the first chunk.
The same over Ray Serve, with the local model, is in test_streaming_ray.py."""

from __future__ import annotations

import time
from typing import Any

import httpx
import openai
import pytest

from serve import Accounts, ProviderService, ProxyAppConfig, local_service
from serve._http import build_http_app
from tests.serve.conftest import LiveProxy, _Uvicorn
from tests.serve.fake_openai import FakeOpenAI, Fault


def client(proxy: LiveProxy, key: str | None = None) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy.url + "/v1", api_key=key or proxy.admin_key, max_retries=0)


def used(proxy: LiveProxy, group: str) -> int:
    account = httpx.get(proxy.url + "/api/account", headers={"Authorization": f"Bearer {proxy.admin_key}"}).json()
    value: int = account["usages"].get(group, {}).get("total", {}).get("used", 0)
    return value


def test_completion_stream_ends_with_a_usage_chunk(live_proxy: LiveProxy) -> None:
    fields: dict[str, Any] = {"model": "simple/model1", "prompt": "the cat sat", "max_tokens": 2, "temperature": 0}
    chunks = list(client(live_proxy).completions.create(**fields, stream=True, stream_options={"include_usage": True}))
    whole = client(live_proxy).completions.create(**fields)
    assert [c.choices[0].text for c in chunks[:-1]] == [" sat", "\n", ""]
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage
    assert (whole.usage.prompt_tokens, whole.usage.completion_tokens) == (3, 2)  # type: ignore[union-attr]


def test_chat_stream_with_usage_and_two_choices(live_proxy: LiveProxy) -> None:
    fields: dict[str, Any] = {
        "model": "openai/chatty",
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 3,
        "n": 2,
        "temperature": 1,
    }
    chunks = list(
        client(live_proxy).chat.completions.create(**fields, stream=True, stream_options={"include_usage": True})
    )
    whole = client(live_proxy).chat.completions.create(**fields)  # the same request: from the cache
    for index in (0, 1):
        mine = [c.choices[0] for c in chunks if c.choices and c.choices[0].index == index]
        assert mine[0].delta.role == "assistant" and mine[-1].finish_reason == "length"
        assert "".join(c.delta.content or "" for c in mine) == whole.choices[index].message.content
    assert [c.message.content for c in whole.choices] == [" Paris is the", " is the capital"]
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage
    assert len(live_proxy.fake.requests) == 1 and live_proxy.fake.requests[0].body["stream"] is True


def test_a_streamed_answer_is_cached_once_complete_and_charged_by_its_usage(live_proxy: LiveProxy) -> None:
    fields: dict[str, Any] = {"model": "openai/fake", "prompt": "Q", "max_tokens": 4, "temperature": 0}
    sdk = client(live_proxy)
    streamed = list(sdk.completions.create(**fields, stream=True, stream_options={"include_usage": True}))
    usage = streamed[-1].usage
    assert usage is not None and usage.completion_tokens == 4
    assert used(live_proxy, "openai") == usage.total_tokens  # charged once, by what the answer used
    again = list(sdk.completions.create(**fields, stream=True))  # streamed from the cache: no upstream call
    whole = sdk.completions.create(**fields)
    text = "".join(c.choices[0].text for c in streamed if c.choices)
    assert text == "".join(c.choices[0].text for c in again) == whole.choices[0].text == " Paris is the capital"
    assert len(live_proxy.fake.requests) == 1 and live_proxy.fake.stream_outcomes == ["completed"]
    assert used(live_proxy, "openai") == usage.total_tokens  # cached answers are free


def test_the_first_chunk_comes_before_the_upstream_has_finished(live_proxy: LiveProxy) -> None:
    gate = live_proxy.fake.hold_streams()  # the fake holds its stream after the first token until released
    stream = client(live_proxy).completions.create(model="openai/fake", prompt="Q", max_tokens=3, stream=True)
    first = next(iter(stream))
    assert first.choices[0].text == " Paris"
    assert not live_proxy.fake.gate_timed_out and live_proxy.fake.stream_outcomes == []  # upstream still open
    gate.set()
    assert "".join(c.choices[0].text for c in stream) == " is the"
    assert live_proxy.fake.stream_outcomes == ["completed"]


def test_errors_before_the_first_chunk_are_http_errors(live_proxy: LiveProxy) -> None:
    statuses = []
    for stream in (True, False):  # a streamed request answers the same status as a whole one
        live_proxy.fake.fail_next(Fault(status=400, message="bad prompt"))
        with pytest.raises(openai.APIStatusError, match="bad prompt") as failure:
            client(live_proxy).completions.create(model="openai/fake", prompt="Q", max_tokens=2, stream=stream)
        statuses.append(failure.value.status_code)
    assert statuses[0] == statuses[1]
    with pytest.raises(openai.NotFoundError):
        client(live_proxy).chat.completions.create(
            model="no/such", messages=[{"role": "user", "content": "x"}], stream=True
        )


def test_quotas_apply_to_streams(live_proxy: LiveProxy) -> None:
    def user(total: int) -> openai.OpenAI:
        quotas = {"simple": {"total": total}}
        body = {"auth": {"api_key": live_proxy.admin_key}, "account": {"quotas": quotas}}
        return client(live_proxy, key=httpx.post(live_proxy.url + "/api/account", json=body).json()["api_key"])

    fields: dict[str, Any] = {"model": "simple/model1", "max_tokens": 2, "temperature": 0, "stream": True}
    for total in (5, 6):
        sdk = user(total)
        salt = {"seed": total}  # each user's first answer is uncached, so charged: 5 tokens
        assert len(list(sdk.completions.create(prompt="the cat sat", **fields, **salt))) == 3
        # 0 or 1 token left, and the next stream may cost 4 + 2: its reservation is refused before any chunk
        # (and before any upstream call), never cut off after its text
        with pytest.raises(openai.RateLimitError, match="quota"):
            sdk.completions.create(prompt="a b c d", **fields)


def test_chat_content_as_a_list_of_text_parts(live_proxy: LiveProxy) -> None:
    parts = [{"type": "text", "text": "Capital of"}, {"type": "text", "text": "France?"}]
    answer = client(live_proxy).chat.completions.create(
        model="simple/model1", messages=[{"role": "user", "content": parts}], max_tokens=2, temperature=0
    )
    assert answer.choices[0].message.content == " France?"  # the simple model repeats the last word
    image = [{"type": "image_url", "image_url": {"url": "http://example.invalid/cat.png"}}]
    with pytest.raises(openai.APIStatusError, match=r"'messages\.0\.content'.*part 0 has type 'image_url'") as refused:
        client(live_proxy).chat.completions.create(
            model="simple/model1",
            messages=[{"role": "user", "content": image}],  # type: ignore[list-item]
        )
    assert refused.value.status_code in (400, 422)  # 422 today; OpenAI's 400 once /v1's statuses are aligned


def test_the_rate_limit_applies_to_streams(live_proxy: LiveProxy) -> None:
    sdk = client(live_proxy)
    # openai/limited allows 2 requests a minute with a burst of 1 and no waiting: the second must wait its turn
    assert list(sdk.completions.create(model="openai/limited", prompt="p0", max_tokens=1, stream=True))
    with pytest.raises(openai.RateLimitError) as refused:
        sdk.completions.create(model="openai/limited", prompt="p1", max_tokens=1, stream=True)
    assert int(refused.value.response.headers["retry-after"]) > 0
    assert len(live_proxy.fake.requests) == 1


def test_a_client_that_disconnects_cancels_the_upstream_stream(
    proxy_config: ProxyAppConfig, fake_openai: FakeOpenAI
) -> None:
    key = Accounts(proxy_config.base_path).ensure_admin()
    service = local_service(proxy_config)
    provider: ProviderService = service.streams["openai"].__self__  # type: ignore[attr-defined]
    gate = fake_openai.hold_streams(chunk_delay=0.01)
    with _Uvicorn(build_http_app(service)) as server:
        sdk = openai.OpenAI(base_url=f"http://127.0.0.1:{server.port}/v1", api_key=str(key), max_retries=0)
        stream = sdk.completions.create(model="openai/fake", prompt="Q", max_tokens=500, stream=True)
        assert next(iter(stream)).choices[0].text == " Paris"
        stream.close()
        deadline = time.monotonic() + 60  # a liveness bound, not a measurement
        while provider.stream_stats.cancelled == 0:
            assert time.monotonic() < deadline, "the disconnect never reached the provider's stream"
            time.sleep(0.05)
        gate.set()  # the fake writes on into a connection the provider has closed
        assert fake_openai.stream_ended.wait(60)
    assert fake_openai.stream_outcomes == ["aborted"] and provider.stream_stats.completed == 0
