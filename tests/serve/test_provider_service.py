"""`ProviderService` with `SharedCache` and `RateLimiters` in-process: two services sharing them stand in for
two replicas sharing the actors."""

from __future__ import annotations

import asyncio
import pickle
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bench import Request, RequestResult
from bench.models import TextDelta
from serve import (
    Answer,
    LocalRemote,
    ProviderService,
    ProxyAppConfig,
    RateLimitedError,
    RateLimiters,
    RateLimitersFacade,
    SharedCache,
    SharedCacheFacade,
)
from serve._config import ServingConfig
from tests.serve.fake_openai import FakeOpenAI, Fault


def services(config: ProxyAppConfig, count: int) -> list[ProviderService]:
    """`count` services of the openai provider sharing one cache and one rate limiter."""
    deployments = config.served()["openai"]
    servings = {name: config.servings()[name] for name in deployments}
    cache = SharedCacheFacade(LocalRemote(SharedCache(config.cache_folder(), "openai")))
    limits = RateLimitersFacade(LocalRemote(RateLimiters("openai", servings)))
    return [ProviderService(deployments, servings, cache, limits) for _ in range(count)]


def test_concurrent_identical_requests_make_one_upstream_call(
    proxy_config: ProxyAppConfig, fake_openai: FakeOpenAI
) -> None:
    first, second = services(proxy_config, 2)
    request = Request(model="openai/fake", prompt="same", max_tokens=2)
    fake_openai.fail_next(Fault(delay=0.3))  # the first call is slow: the second arrives while it runs

    async def both() -> list[list[RequestResult]]:
        answers = await asyncio.gather(first.make_requests([request]), second.make_requests([request]))
        return [[a.result for a in batch] for batch in answers]

    (a,), (b,) = asyncio.run(both())
    assert len(fake_openai.requests) == 1
    assert a.completions == b.completions and sorted([a.cached, b.cached]) == [False, True]


def test_crossed_batches_do_not_wait_on_each_other(proxy_config: ProxyAppConfig, fake_openai: FakeOpenAI) -> None:
    # each batch leads one key and follows the other's: claims never wait, so both finish
    first, second = services(proxy_config, 2)
    one, two = (Request(model="openai/fake", prompt=p, max_tokens=1) for p in ("one", "two"))
    fake_openai.fail_next(Fault(delay=0.2), Fault(delay=0.2))

    async def crossed() -> None:
        await asyncio.wait_for(asyncio.gather(first.make_requests([one, two]), second.make_requests([two, one])), 10)

    asyncio.run(crossed())
    assert sorted(r.body["prompt"] for r in fake_openai.requests) == ["one", "two"]


def test_answers_count_tokens_and_charge_only_upstream_calls(proxy_config: ProxyAppConfig) -> None:
    (service,) = services(proxy_config, 1)
    request = Request(model="openai/fake", prompt="a b c", max_tokens=2)
    fresh = asyncio.run(service.make_requests([request]))[0]
    cached = asyncio.run(service.make_requests([request]))[0]
    assert (fresh.prompt_tokens, fresh.completion_tokens, fresh.charged_tokens) == (3, 2, 5)
    assert cached.result.cached and cached.charged_tokens == 0


def test_the_rate_limit_refuses_past_its_bound(proxy_config: ProxyAppConfig) -> None:
    first, second = services(proxy_config, 2)
    answers = [
        asyncio.run(s.make_requests([Request(model="openai/limited", prompt=f"p{i}", max_tokens=1)]))[0]
        for i, s in enumerate([first, second, first])
    ]
    # 2 a minute: a burst of 1, then one every (60 + 1) / 1.5 s, so that no trailing minute holds 3
    assert [a.result.success for a in answers] == [True, False, False]
    # (less the time since the first, which refills a little)
    assert answers[1].retry_after is not None and 30 < answers[1].retry_after <= 61 / 1.5
    assert "requests per minute" in (answers[1].result.error or "")


def test_rate_limiters_leave_unlimited_models_alone() -> None:
    limiters = RateLimiters("p", {"p/free": ServingConfig(), "p/tight": ServingConfig(requests_per_minute=1)})
    assert limiters.acquire("p/free", 1000, 0, 0) == 0.0
    assert limiters.acquire("p/tight", 1, 0, 0) == 0.0
    with pytest.raises(RateLimitedError):
        limiters.acquire("p/tight", 1, 0, 0)


def test_shared_cache_never_stores_failures(tmp_path: Path) -> None:
    async def scenario() -> None:
        cache = SharedCache(tmp_path, "p")
        assert cache.claim_many(["k"]) == [("lead", None)]
        assert cache.claim_many(["k"]) == [("follow", None)]
        follower = asyncio.create_task(cache.follow_many(["k"]))
        await asyncio.sleep(0.05)  # the follower is waiting on the leader's future
        cache.finish("k", RequestResult.failure("down", retriable=True))
        assert [r.error for r in await follower if r is not None] == ["down"]
        assert cache.claim_many(["k"]) == [("lead", None)]  # the failure was not stored
        cache.finish("k", RequestResult(success=True))
        kind, hit = cache.claim_many(["k"])[0]
        assert kind == "hit" and hit is not None and hit.cached
        assert cache.stats().model_dump() == {"hits": 1, "misses": 2, "shared": 1, "entries": 1}

    asyncio.run(scenario())


def test_proxy_errors_survive_pickling_as_themselves() -> None:
    # actors return errors as values: they must come back with their status and fields
    error = pickle.loads(pickle.dumps(RateLimitedError(provider="openai", retry_after=2.2, limit="tokens per minute")))
    assert isinstance(error, RateLimitedError) and error.retry_after_header == "3" and error.status == 429
    assert str(error) == "openai: rate limit (tokens per minute) reached; retry after 2.2 s"


def test_a_stream_is_shared_through_the_cache(proxy_config: ProxyAppConfig, fake_openai: FakeOpenAI) -> None:
    first, second = services(proxy_config, 2)
    request = Request(model="openai/fake", prompt="same", max_tokens=3)
    gate = fake_openai.hold_streams()

    async def both() -> tuple[list[object], list[object]]:
        leader = first.stream_request(request)
        head = [await anext(leader)]  # the first token; the upstream holds the rest
        other = asyncio.ensure_future(_collect(second.stream_request(request)))  # follows, or hits later
        gate.set()
        return head + [item async for item in leader], await other

    led, followed = asyncio.run(both())
    assert len(fake_openai.requests) == 1
    assert [d.text for d in led if isinstance(d, TextDelta)] == [" Paris", " is", " the"]
    assert [d.text for d in followed if isinstance(d, TextDelta)] == [" Paris", " is", " the"]
    assert isinstance(led[-1], Answer) and not led[-1].result.cached and led[-1].charged_tokens > 0
    assert isinstance(followed[-1], Answer) and followed[-1].result.cached and followed[-1].charged_tokens == 0


def test_a_cancelled_stream_stops_its_upstream_and_releases_its_key(
    proxy_config: ProxyAppConfig, fake_openai: FakeOpenAI
) -> None:
    (service,) = services(proxy_config, 1)
    request = Request(model="openai/fake", prompt="long", max_tokens=300)
    gate = fake_openai.hold_streams(chunk_delay=0.01)

    async def cancel_then_ask_again() -> list[object]:
        stream = service.stream_request(request)
        assert isinstance(await anext(stream), TextDelta)
        await stream.aclose()  # the consumer goes away
        assert (service.stream_stats.started, service.stream_stats.cancelled) == (1, 1)
        gate.set()
        return await _collect(service.stream_request(request))  # not waiting for, nor served, the cancelled one

    again = asyncio.run(cancel_then_ask_again())
    answer = again[-1]
    assert isinstance(answer, Answer) and answer.result.success and not answer.result.cached
    assert len(fake_openai.requests) == 2
    deadline = time.monotonic() + 60  # a liveness bound: the fake notices the closed connection at its next write
    while len(fake_openai.stream_outcomes) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(fake_openai.stream_outcomes) == ["aborted", "completed"]


async def _collect(stream: AsyncIterator[object]) -> list[object]:
    return [item async for item in stream]


def test_answers_stream_as_each_upstream_call_ends_not_as_the_batch_does(
    proxy_config: ProxyAppConfig, fake_openai: FakeOpenAI
) -> None:
    """A batch of 4 with one slow upstream call: the other 3 answers come first, all 4 calls in flight at once,
    and the stream's answers are the same results `make_requests` gives (from the cache the stream filled)."""
    (service,) = services(proxy_config, 1)
    requests = [Request(model="openai/fake", prompt=f"p{k}", max_tokens=2) for k in range(4)]
    fake_openai.latency = 0.2  # every call in flight long enough to overlap the others
    fake_openai.fail_next(Fault(delay=1.0))  # whichever request the server takes first is slow

    async def collect() -> list[list[tuple[int, Answer]]]:
        return [chunk async for chunk in service.stream_answers(requests)]

    chunks = asyncio.run(collect())
    assert fake_openai.max_in_flight == 4
    slow = next(k for k in range(4) if requests[k].prompt == fake_openai.requests[0].body["prompt"])
    assert sorted(i for chunk in chunks[:-1] for i, _ in chunk) == sorted(set(range(4)) - {slow})
    assert [i for i, _ in chunks[-1]] == [slow]  # the slow one alone, last
    streamed = {i: a.result for chunk in chunks for i, a in chunk}
    assert all(r.success and not r.cached for r in streamed.values())
    again = asyncio.run(service.make_requests(requests))
    assert [a.result.completions for a in again] == [streamed[k].completions for k in range(4)]
    assert all(a.result.cached for a in again) and len(fake_openai.requests) == 4
