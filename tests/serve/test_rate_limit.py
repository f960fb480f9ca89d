"""Rate limits over any trailing window, with an injected clock: a burst, then an even refill; pauses; refusals
with Retry-After. Finding 6 of issue 11: at 120 requests a minute the upstream received 238 in the first 60 s
(the bucket started with a full minute and refilled at the full rate)."""

from __future__ import annotations

import bisect
import random

import pytest

from serve import ProviderRateLimiter, RateLimitedError, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def most_in_any_window(times: list[float], window: float) -> int:
    """The largest number of `times` in any closed interval [t, t + window]."""
    times = sorted(times)
    return max((bisect.bisect_right(times, t + window) - i for i, t in enumerate(times)), default=0)


def test_a_greedy_caller_never_gets_more_than_the_limit_in_any_minute() -> None:
    clock = Clock()
    limiter = ProviderRateLimiter("openai", requests_per_minute=120, clock=clock)
    turns = [clock.now + limiter.acquire(max_wait=10**6) for _ in range(600)]  # all asked at once
    assert most_in_any_window(turns, 60.0) <= 120
    assert turns.count(clock.now) == 12  # the burst: a tenth of the limit, not a whole minute
    # and the limit is still used: 600 requests within about five minutes and a half
    assert turns[-1] - turns[0] < 5.5 * 61


def test_random_traffic_with_late_arrivals_stays_within_the_limit() -> None:
    rng = random.Random(6)
    for limit, fraction, margin in [(120, 0.1, 1.0), (7, 0.5, 0.5), (1, 0.1, 1.0), (50, 1.0, 2.0)]:
        clock = Clock()
        limiter = ProviderRateLimiter(
            "p", requests_per_minute=limit, clock=clock, burst_fraction=fraction, margin=margin
        )
        arrivals = []
        for _ in range(400):
            clock.now += rng.expovariate(limit / 30)  # asks at about twice the limit, in clumps
            try:
                turn = clock.now + limiter.acquire(max_wait=rng.choice([0.0, 5.0, 120.0]))
            except RateLimitedError:
                continue
            arrivals.append(turn + rng.uniform(0, margin))  # sent at its turn, arriving up to `margin` later
        assert most_in_any_window(arrivals, 60.0) <= limit, (limit, fraction, margin)


def test_the_burst_is_configurable_and_the_refill_keeps_every_window_in_bounds() -> None:
    clock = Clock()
    bucket = TokenBucket.for_limit(60, burst_fraction=0.5, margin=0.0, clock=clock)  # burst 30
    assert (bucket.capacity, bucket.rate) == (30.0, pytest.approx(30.5 / 60))
    assert bucket.wait_for(30) == 0.0
    bucket.take(30)
    assert bucket.wait_for(1) == pytest.approx(1 / bucket.rate)
    clock.now += 1000
    assert bucket.level() == 30  # never above its burst
    with pytest.raises(ValueError, match="burst_fraction=0"):
        TokenBucket.for_limit(60, burst_fraction=0)


def test_requests_queue_in_turn_then_are_refused() -> None:
    clock = Clock()
    limiter = ProviderRateLimiter("openai", requests_per_minute=60, clock=clock, burst_fraction=1.0, margin=0.0)
    step = 60 / 0.5  # burst 60, then 0.5 per minute: one every 120 s
    assert [limiter.acquire(max_wait=250) for _ in range(60)] == [0.0] * 60
    assert limiter.acquire(max_wait=250) == pytest.approx(step)
    assert limiter.acquire(max_wait=250) == pytest.approx(2 * step)
    with pytest.raises(RateLimitedError, match="requests per minute") as refused:
        limiter.acquire(max_wait=250)
    assert refused.value.retry_after == pytest.approx(3 * step - 250)
    assert refused.value.retry_after_header == "110" and refused.value.status == 429
    clock.now += 3 * step  # a refusal reserves nothing: the queue has drained to exactly one slot
    assert limiter.acquire(max_wait=0) == pytest.approx(0.0)


def test_tokens_per_minute_and_the_larger_wait_wins() -> None:
    clock = Clock()
    limiter = ProviderRateLimiter("ai21", requests_per_minute=600, tokens_per_minute=6000, clock=clock, margin=0.0)
    rate = (6000 - 600 + 0.5) / 60  # tokens per second after the burst of 600
    assert limiter.acquire(tokens=600) == 0.0
    assert limiter.acquire(tokens=500, max_wait=10) == pytest.approx(500 / rate)
    with pytest.raises(RateLimitedError, match="tokens per minute"):
        limiter.acquire(tokens=100, max_wait=500 / rate)


def test_a_pause_holds_every_caller_back_and_refills_from_empty() -> None:
    clock = Clock()
    limiter = ProviderRateLimiter("openai", requests_per_minute=120, clock=clock, margin=0.0)  # burst 12
    assert limiter.acquire() == 0.0
    limiter.pause(5.0)  # the provider answered 429 with Retry-After: 5
    rate = (120 - 12 + 0.5) / 60
    assert limiter.acquire() == pytest.approx(5.0 + 1 / rate)  # not the 11 left of the burst
    with pytest.raises(RateLimitedError):
        limiter.acquire(max_wait=4.0)
    clock.now += 5.0
    assert limiter.acquire() == pytest.approx(2 / rate)  # behind the one reserved during the pause
    limiter.pause(0.0)  # a pause that is already over changes nothing but the empty bucket
    clock.now += 1000
    assert limiter.acquire() == 0.0


def test_no_limits_never_wait() -> None:
    assert ProviderRateLimiter("local").acquire(tokens=10**9, max_wait=0) == 0.0


def test_bad_bucket() -> None:
    with pytest.raises(ValueError, match="capacity and rate must be > 0"):
        TokenBucket(0, 1)
