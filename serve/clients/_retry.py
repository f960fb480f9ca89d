"""Retries of provider calls: exponential backoff with jitter, bounded in attempts and in total time.

Only `ProviderError`s marked retriable (429, 5xx, timeouts, dropped connections) are retried; any other
error returns at once. A provider's Retry-After is honoured (as a floor on the wait). No attempt starts
past the deadline, and no wait is slept that would end past it: the last error is raised instead. Nor does one
start once the caller has gone away (serve._cancellation): the wait ends early and the last error is raised.

With a `Pacer` (the model's shared rate limiter), every retry takes its turn like a first attempt does:
after the backoff, the retry reserves a request (and its tokens) and sleeps until its turn, so retries
count against the provider's limit; a 429 with Retry-After first pauses the limiter for every replica.
A retry that cannot get a turn within the limiter's queue wait is not made: the last error is raised.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from serve._cancellation import cancelled, sleep_unless_cancelled
from serve._config import RetryConfig
from serve._errors import ProviderError, RateLimitedError

T = TypeVar("T")

logger = logging.getLogger(__name__)


class Pacer(Protocol):
    """A model's rate limiter as a retry sees it (blocking calls: retries run in the client's thread)."""

    def pause(self, seconds: float) -> None:
        """Hold every caller back for `seconds` (the provider answered 429 with Retry-After)."""
        ...

    def turn(self) -> float:
        """Reserve one request (and its tokens); the seconds to wait before sending it.

        Raises:
            RateLimitedError: when the turn is further off than the limiter's queue wait (nothing reserved).
        """
        ...


@dataclass
class Retrier:
    """Runs a provider call with retries; `sleep`, `clock` and `rng` are injectable for tests."""

    config: RetryConfig = field(default_factory=RetryConfig)
    sleep: Callable[[float], None] = sleep_unless_cancelled
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based): equal jitter, half the exponential
        cap plus up to half again at random."""
        cap = min(self.config.max_backoff_seconds, self.config.initial_backoff_seconds * 2 ** (attempt - 1))
        return cap / 2 + self.rng.uniform(0, cap / 2)

    def call(self, attempt_once: Callable[[], T], pacer: Pacer | None = None) -> T:
        """The value of `attempt_once()`, retried while it raises a retriable `ProviderError`.

        Args:
            attempt_once: one attempt (its first turn of the rate limit was taken by the caller).
            pacer: the model's rate limiter: paused on a 429 with Retry-After; each retry takes a turn.

        Raises:
            ProviderError: a fatal one at once; the last retriable one once attempts, time or turns run out.
        """
        deadline = self.clock() + self.config.max_total_seconds
        attempt = 0
        while True:
            attempt += 1
            try:
                return attempt_once()
            except ProviderError as error:
                if pacer is not None and error.provider_status == 429 and error.retry_after:
                    _pause(pacer, error)
                if not error.retriable or attempt >= self.config.max_attempts:
                    raise
                wait = max(self.backoff(attempt), error.retry_after or 0.0)
                if self.clock() + wait >= deadline:
                    raise
                logger.info("%s: attempt %d failed (%s); retrying in %.2f s", error.model, attempt, error.message, wait)
                self.sleep(wait)
                if cancelled():
                    raise
                if pacer is not None:
                    self._wait_for_turn(pacer, error, deadline)

    def _wait_for_turn(self, pacer: Pacer, error: ProviderError, deadline: float) -> None:
        """Take the retry's turn of the rate limit and sleep until it comes.

        Raises:
            ProviderError: `error`, when no turn comes before the deadline or within the queue wait.
        """
        try:
            turn = pacer.turn()
        except RateLimitedError:
            raise error from None
        except Exception as failure:  # the limiter could not be asked (its actor died): no turn, no retry
            logger.warning("%s: no turn of the rate limit for a retry (%s)", error.model, type(failure).__name__)
            raise error from None
        if self.clock() + turn >= deadline:
            raise error
        if turn > 0:
            self.sleep(turn)


def _pause(pacer: Pacer, error: ProviderError) -> None:
    """Pause the limiter for the provider's Retry-After; a limiter that cannot be asked is logged, not fatal
    (the retry that follows asks it for a turn, and is not made without one)."""
    try:
        pacer.pause(error.retry_after or 0.0)
    except Exception as failure:
        logger.warning("%s: the rate limiter could not be paused (%s)", error.model, type(failure).__name__)
