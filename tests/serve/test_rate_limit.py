"""Token buckets with an injected clock: waits computed by hand, refusals with Retry-After."""

from __future__ import annotations

import pytest

from serve import ProviderRateLimiter, RateLimitedError, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_starts_full_and_refills_at_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket.per_minute(60, clock)  # 1 per second, burst 60
    assert bucket.wait_for(60) == 0.0
    bucket.take(60)
    assert bucket.wait_for(1) == pytest.approx(1.0)
    clock.now += 0.5
    assert bucket.level() == pytest.approx(0.5)
    clock.now += 1000
    assert bucket.level() == 60  # never above capacity


def test_requests_queue_in_turn_then_are_refused() -> None:
    clock = Clock()
    limiter = ProviderRateLimiter("openai", requests_per_minute=60, clock=clock)
    assert [limiter.acquire(max_wait=2.5) for _ in range(60)] == [0.0] * 60
    # the bucket is empty: the next ones wait 1 s, 2 s in turn
    assert limiter.acquire(max_wait=2.5) == pytest.approx(1.0)
    assert limiter.acquire(max_wait=2.5) == pytest.approx(2.0)
    with pytest.raises(RateLimitedError, match="requests per minute") as refused:
        limiter.acquire(max_wait=2.5)
    assert refused.value.retry_after == pytest.approx(0.5)  # 3 s wait, 2.5 s allowed
    assert refused.value.retry_after_header == "1" and refused.value.status == 429
    # a refusal reserves nothing: after 3 s the queue has drained to exactly one slot
    clock.now += 3
    assert limiter.acquire(max_wait=0) == pytest.approx(0.0)


def test_tokens_per_minute_and_the_larger_wait_wins() -> None:
    clock = Clock()
    limiter = ProviderRateLimiter("ai21", requests_per_minute=600, tokens_per_minute=6000, clock=clock)
    assert limiter.acquire(tokens=6000) == 0.0
    # 100 tokens per second refill: 500 tokens -> 5 s; requests would allow it at once
    assert limiter.acquire(tokens=500, max_wait=10) == pytest.approx(5.0)
    with pytest.raises(RateLimitedError, match="tokens per minute"):
        limiter.acquire(tokens=100, max_wait=5.5)


def test_no_limits_never_wait() -> None:
    assert ProviderRateLimiter("local").acquire(tokens=10**9, max_wait=0) == 0.0


def test_bad_bucket() -> None:
    with pytest.raises(ValueError, match="capacity and rate must be > 0"):
        TokenBucket(0, 1)
