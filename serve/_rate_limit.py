"""Per-provider rate limits: token buckets for requests and tokens per minute.

`TokenBucket` holds up to `capacity` units and refills at `rate` units per second. A caller *reserves*
what it needs: the bucket may go below zero, and the caller is told how long to wait before its turn
(the debt divided by the rate). Reservations queue fairly in arrival order, and a caller whose wait
would exceed `max_wait` is refused with `RateLimitedError(retry_after=...)` and reserves nothing.

`ProviderRateLimiter` combines a requests bucket and a tokens bucket (either optional) and reserves in
both or neither. It is a plain thread-safe class with an injectable clock; the proxy's per-provider Ray
actor wraps one instance so that every replica shares it, and replicas sleep the returned wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from serve._errors import RateLimitedError

SECONDS_PER_MINUTE = 60.0


class TokenBucket:
    """`capacity` units, refilled at `rate` units per second, starting full."""

    def __init__(self, capacity: float, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if capacity <= 0 or rate <= 0:
            raise ValueError(f"capacity and rate must be > 0, got capacity={capacity}, rate={rate}")
        self.capacity = capacity
        self.rate = rate
        self.clock = clock
        self._level = capacity
        self._updated = clock()

    @classmethod
    def per_minute(cls, limit: int, clock: Callable[[], float] = time.monotonic) -> TokenBucket:
        """A bucket allowing `limit` units per minute, with a minute's worth as burst."""
        return cls(capacity=float(limit), rate=limit / SECONDS_PER_MINUTE, clock=clock)

    def level(self) -> float:
        """Units available now (negative while reservations are waiting)."""
        now = self.clock()
        self._level = min(self.capacity, self._level + (now - self._updated) * self.rate)
        self._updated = now
        return self._level

    def wait_for(self, amount: float) -> float:
        """Seconds until `amount` units would be available to a new reservation (0 if now)."""
        return max(0.0, (amount - self.level()) / self.rate)

    def take(self, amount: float) -> None:
        """Reserve `amount` units (the level may go negative: later callers wait longer)."""
        self._level = self.level() - amount


class ProviderRateLimiter:
    """Requests-per-minute and tokens-per-minute limits of one provider; thread-safe."""

    def __init__(
        self,
        provider: str,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.provider = provider
        self._requests = TokenBucket.per_minute(requests_per_minute, clock) if requests_per_minute else None
        self._tokens = TokenBucket.per_minute(tokens_per_minute, clock) if tokens_per_minute else None
        self._lock = threading.Lock()

    def acquire(self, requests: int = 1, tokens: int = 0, max_wait: float = 30.0) -> float:
        """Reserve `requests` requests and `tokens` tokens; the seconds to wait before sending (0: now).

        Raises:
            RateLimitedError: with `retry_after`, when the wait would exceed `max_wait` (nothing is reserved).
        """
        with self._lock:
            waits = {}
            if self._requests is not None:
                waits["requests per minute"] = self._requests.wait_for(requests)
            if self._tokens is not None:
                waits["tokens per minute"] = self._tokens.wait_for(tokens)
            if not waits:
                return 0.0
            limit, wait = max(waits.items(), key=lambda item: item[1])
            if wait > max_wait:
                raise RateLimitedError(provider=self.provider, retry_after=wait - max_wait, limit=limit)
            if self._requests is not None:
                self._requests.take(requests)
            if self._tokens is not None:
                self._tokens.take(tokens)
            return wait
