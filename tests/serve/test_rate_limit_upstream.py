"""Finding 6 of issue 11, measured where it matters: at the (fake) upstream, which records when each request
arrived. Two services share one limiter (two replicas sharing the actor); the upstream fails some attempts
(500s, and 429s with Retry-After), so retries are part of the traffic. Over any trailing window the upstream
never sees more than the limit, retries included. The limiter's window is shortened to 2 s here, through
`RateLimiters(window_seconds=...)`, so that the test takes seconds, not minutes; the bound is the same. The
margin (how late after its turn a request may arrive) is generous: a loaded test machine delays threads."""

from __future__ import annotations

import asyncio
import bisect

from bench import Request
from serve import (
    LocalRemote,
    ProviderService,
    ProxyAppConfig,
    RateLimiters,
    RateLimitersFacade,
    SharedCache,
    SharedCacheFacade,
)
from serve._config import ServingConfig
from tests.serve.fake_openai import FakeOpenAI, Fault

WINDOW = 4.0
LIMIT = 12


def most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of `times` in any closed interval [t, t + window]."""
    times = sorted(times)
    return max((bisect.bisect_right(times, t + window) - i for i, t in enumerate(times)), default=0)


def test_the_upstream_never_sees_more_than_the_limit_in_any_window_retries_included(
    proxy_config: ProxyAppConfig, fake_openai: FakeOpenAI
) -> None:
    deployments = {"openai/fake": proxy_config.served()["openai"]["openai/fake"]}  # 3 attempts, no backoff
    serving = ServingConfig(
        requests_per_minute=LIMIT,  # per WINDOW seconds here
        burst_fraction=0.25,
        rate_limit_margin_seconds=2.0,
        max_queue_wait_seconds=120,
    )
    servings = {"openai/fake": serving}
    cache = SharedCacheFacade(LocalRemote(SharedCache(proxy_config.cache_folder(), "openai")))
    limits = RateLimitersFacade(LocalRemote(RateLimiters("openai", servings, window_seconds=WINDOW)))
    replicas = [ProviderService(deployments, servings, cache, limits) for _ in range(2)]
    fake_openai.fail_next(
        Fault(status=500),
        Fault(status=429, retry_after="1"),
        Fault(status=503),
        *[Fault(delay=0.0)] * 5,
        Fault(status=429, retry_after="1"),
        Fault(status=500),
    )
    requests = [Request(model="openai/fake", prompt=f"question {i}", max_tokens=1) for i in range(20)]

    async def everything() -> list[bool]:
        batches = await asyncio.gather(
            *(replicas[i % 2].make_requests(requests[i : i + 5]) for i in range(0, len(requests), 5))
        )
        return [answer.result.success for batch in batches for answer in batch]

    assert all(asyncio.run(everything()))
    arrivals = [r.at for r in fake_openai.requests]
    assert len(arrivals) == 20 + 5  # five attempts failed and were retried
    assert most_in_any_window(arrivals, WINDOW) <= LIMIT
    # the burst is a quarter of the limit, not a window's worth: in 0.4 s at most 3, plus what arrivals up to
    # 2 s late can add at 1.6 per second (a bucket that started full would have let all 12 go at once)
    assert most_in_any_window(arrivals, WINDOW / 10) <= 6


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_upstream_429_with_retry_after_pauses_every_replica(
    proxy_config: ProxyAppConfig, fake_openai: FakeOpenAI
) -> None:
    deployments = {"openai/fake": proxy_config.served()["openai"]["openai/fake"]}
    servings = {"openai/fake": ServingConfig(requests_per_minute=600, max_queue_wait_seconds=0)}
    clock = Clock()  # the limiter's time stands still unless the test moves it
    cache = SharedCacheFacade(LocalRemote(SharedCache(proxy_config.cache_folder(), "openai")))
    limits = RateLimitersFacade(LocalRemote(RateLimiters("openai", servings, clock=clock)))
    first, second = (ProviderService(deployments, servings, cache, limits) for _ in range(2))
    first.client_for("openai/fake").retrier.sleep = lambda seconds: None  # type: ignore[attr-defined]
    fake_openai.fail_next(Fault(status=429, retry_after="30"))

    (refused,) = asyncio.run(first.make_requests([Request(model="openai/fake", prompt="one", max_tokens=1)]))
    # the limiter was paused for 30 s, longer than the queue wait: the retry was not sent
    assert not refused.result.success and len(fake_openai.requests) == 1
    (held,) = asyncio.run(second.make_requests([Request(model="openai/fake", prompt="two", max_tokens=1)]))
    assert not held.result.success and "requests per minute" in (held.result.error or "")
    assert held.retry_after is not None and held.retry_after >= 30  # the other replica waits too
    assert len(fake_openai.requests) == 1
    clock.now += 31
    (sent,) = asyncio.run(second.make_requests([Request(model="openai/fake", prompt="two", max_tokens=1)]))
    assert sent.result.success and len(fake_openai.requests) == 2
