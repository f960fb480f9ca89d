"""Retries of provider calls: exponential backoff with jitter, bounded in attempts and in total time.

Only `ProviderError`s marked retriable (429, 5xx, timeouts, dropped connections) are retried; any other
error returns at once. A provider's Retry-After is honoured (as a floor on the wait). No attempt starts
past the deadline, and no wait is slept that would end past it: the last error is raised instead.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from serve._config import RetryConfig
from serve._errors import ProviderError

T = TypeVar("T")

logger = logging.getLogger(__name__)


@dataclass
class Retrier:
    """Runs a provider call with retries; `sleep`, `clock` and `rng` are injectable for tests."""

    config: RetryConfig = field(default_factory=RetryConfig)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based): equal jitter, half the exponential
        cap plus up to half again at random."""
        cap = min(self.config.max_backoff_seconds, self.config.initial_backoff_seconds * 2 ** (attempt - 1))
        return cap / 2 + self.rng.uniform(0, cap / 2)

    def call(self, attempt_once: Callable[[], T]) -> T:
        """The value of `attempt_once()`, retried while it raises a retriable `ProviderError`.

        Raises:
            ProviderError: a fatal one at once; the last retriable one once attempts or time run out.
        """
        deadline = self.clock() + self.config.max_total_seconds
        attempt = 0
        while True:
            attempt += 1
            try:
                return attempt_once()
            except ProviderError as error:
                if not error.retriable or attempt >= self.config.max_attempts:
                    raise
                wait = max(self.backoff(attempt), error.retry_after or 0.0)
                if self.clock() + wait >= deadline:
                    raise
                logger.info("%s: attempt %d failed (%s); retrying in %.2f s", error.model, attempt, error.message, wait)
                self.sleep(wait)
