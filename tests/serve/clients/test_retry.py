"""Retries take their turns from the rate limiter (finding 6 of issue 11: retries were not counted, and against
an upstream enforcing 120 a minute, 300 requests made 404 calls); a 429 with Retry-After pauses the limiter.
Clock and sleep are injected: nothing here waits."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from serve import ProviderError, RateLimitedError, RetryConfig
from serve.clients import Retrier


class Time:
    """A clock that the retrier's sleeps advance."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Pacer:
    """Records what the retrier asks of the limiter; turns come `turn_wait` seconds off (or are refused)."""

    def __init__(self, turn_wait: float = 0.0, refuse: bool = False) -> None:
        self.turn_wait = turn_wait
        self.refuse = refuse
        self.calls: list[tuple[str, float]] = []

    def pause(self, seconds: float) -> None:
        self.calls.append(("pause", seconds))

    def turn(self) -> float:
        if self.refuse:
            raise RateLimitedError(provider="p", retry_after=9.0, limit="requests per minute")
        self.calls.append(("turn", self.turn_wait))
        return self.turn_wait


def failing(*errors: ProviderError) -> tuple[list[int], Callable[[], str]]:
    attempts: list[int] = []

    def attempt() -> str:
        attempts.append(1)
        if len(attempts) <= len(errors):
            raise errors[len(attempts) - 1]
        return "ok"

    return attempts, attempt


def error(status: int, retry_after: float | None = None) -> ProviderError:
    return ProviderError(
        "x", provider="p", model="p/m", retriable=True, provider_status=status, retry_after=retry_after
    )


def retrier(clock: Time, attempts: int = 5) -> Retrier:
    config = RetryConfig(max_attempts=attempts, initial_backoff_seconds=1.0, max_backoff_seconds=1.0)
    return Retrier(config, sleep=clock.sleep, clock=lambda: clock.now, rng=random.Random(0))


def test_every_retry_takes_a_turn_after_its_backoff_and_waits_for_it() -> None:
    clock, pacer = Time(), Pacer(turn_wait=2.5)
    attempts, attempt = failing(error(500), error(502))
    assert retrier(clock).call(attempt, pacer) == "ok"
    assert len(attempts) == 3
    assert pacer.calls == [("turn", 2.5), ("turn", 2.5)]  # one turn per retry; the first was the caller's
    assert clock.slept[1] == 2.5 and clock.slept[3] == 2.5  # backoff, then the turn's wait, before each retry


def test_a_429_with_retry_after_pauses_the_limiter_even_on_the_last_attempt() -> None:
    clock, pacer = Time(), Pacer()
    attempts, attempt = failing(error(429, retry_after=7.0), error(429, retry_after=3.0))
    with pytest.raises(ProviderError):
        retrier(clock, attempts=2).call(attempt, pacer)
    assert len(attempts) == 2 and pacer.calls == [("pause", 7.0), ("turn", 0.0), ("pause", 3.0)]
    assert clock.slept[0] >= 7.0  # Retry-After is still a floor on the wait


def test_a_retry_without_a_turn_in_time_is_not_made() -> None:
    clock, pacer = Time(), Pacer(refuse=True)
    attempts, attempt = failing(error(503))
    with pytest.raises(ProviderError, match="x"):
        retrier(clock).call(attempt, pacer)
    assert len(attempts) == 1  # the limiter's queue was full: the upstream is not asked again
