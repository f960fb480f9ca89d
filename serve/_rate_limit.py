"""Per-provider rate limits that hold over any trailing window: token buckets for requests and tokens.

A provider's limit of L per minute is a promise about *every* 60-second window, not about calendar minutes.
A bucket that starts with a full minute's worth and refills at L per minute breaks it: it sends L at once,
then L more over the next 60 s (the issue that found it saw 238 requests in the first minute at 120 per
minute). So the bucket holds only a burst B (`burst_fraction` of L, at least 1) and refills at
(L - B + 1/2) / (window + margin): in any closed window of `window` seconds, B + rate * window < L + 1, so
at most L units go out, and that stays true when a sending is delayed by up to `margin` seconds between
its turn and its arrival at the provider (a replica's sleep, a thread, the network). The bound needs each
reservation to be at most B units: a request is one unit; a token reservation above the burst waits as if
the bucket refilled past its capacity, which only makes it later.

`TokenBucket` lets a caller *reserve*: the level may go below zero, and the caller is told how long to wait
for its turn (the debt divided by the rate); reservations queue in arrival order, and a caller whose wait
would exceed `max_wait` is refused with `RateLimitedError(retry_after=...)` and reserves nothing. `pause`
(a provider's 429 with Retry-After) empties the bucket and stops its refill until the pause ends.

`ProviderRateLimiter` combines a requests bucket and a tokens bucket (either optional) and reserves in both or
neither. It is a plain thread-safe class with an injectable clock; the proxy's per-provider Ray actor
(`RateLimiters`) holds one per model so that every replica shares it, and replicas sleep the returned wait.
Every attempt takes its turn, retries included (`serve.clients.Retrier` asks before each retry).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from serve._errors import RateLimitedError

SECONDS_PER_MINUTE = 60.0
DEFAULT_BURST_FRACTION = 0.1
DEFAULT_MARGIN_SECONDS = 1.0


def burst_of(limit: int, fraction: float) -> int:
    """The burst of a limit: `fraction` of it, at least 1 and at most the limit."""
    return max(1, min(limit, math.floor(limit * fraction)))


class TokenBucket:
    """`capacity` units, refilled at `rate` units per second, starting full."""

    def __init__(self, capacity: float, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if capacity <= 0 or rate <= 0:
            raise ValueError(f"capacity and rate must be > 0, got capacity={capacity}, rate={rate}")
        self.capacity = capacity
        self.rate = rate
        self.clock = clock
        self._level = capacity
        self._updated = clock()  # the level is the level at this time; in a pause, a time still to come

    @classmethod
    def for_limit(
        cls,
        limit: int,
        *,
        window: float = SECONDS_PER_MINUTE,
        burst_fraction: float = DEFAULT_BURST_FRACTION,
        margin: float = DEFAULT_MARGIN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> TokenBucket:
        """A bucket that never lets more than `limit` units go in any `window` seconds (see the module).

        Raises:
            ValueError: for a limit below 1, a window that is not positive or a fraction outside (0, 1].
        """
        if limit < 1 or window <= 0 or not 0 < burst_fraction <= 1 or margin < 0:
            raise ValueError(
                f"a rate limit needs limit >= 1, window > 0, 0 < burst_fraction <= 1 and margin >= 0, got "
                f"limit={limit}, window={window}, burst_fraction={burst_fraction}, margin={margin}"
            )
        burst = burst_of(limit, burst_fraction)
        return cls(capacity=float(burst), rate=(limit - burst + 0.5) / (window + margin), clock=clock)

    def level(self) -> float:
        """Units available now (negative while reservations are waiting; no refill during a pause)."""
        now = self.clock()
        if now > self._updated:
            self._level = min(self.capacity, self._level + (now - self._updated) * self.rate)
            self._updated = now
        return self._level

    def wait_for(self, amount: float) -> float:
        """Seconds until `amount` units would be available to a new reservation (0 if now)."""
        level = self.level()
        paused = max(0.0, self._updated - self.clock())
        return paused + max(0.0, (amount - level) / self.rate)

    def take(self, amount: float) -> None:
        """Reserve `amount` units (the level may go negative: later callers wait longer)."""
        self._level = self.level() - amount

    def pause(self, seconds: float) -> None:
        """Nothing goes out for `seconds` from now, and the bucket refills from empty after that."""
        self._level = min(self.level(), 0.0)
        self._updated = max(self._updated, self.clock() + seconds)


class ProviderRateLimiter:
    """Requests-per-minute and tokens-per-minute limits of one provider (or model); thread-safe."""

    def __init__(
        self,
        provider: str,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        burst_fraction: float = DEFAULT_BURST_FRACTION,
        margin: float = DEFAULT_MARGIN_SECONDS,
        window: float = SECONDS_PER_MINUTE,
    ) -> None:
        """Args:
        provider: named in refusals. requests_per_minute, tokens_per_minute: the limits (None: none).
        clock: seconds, injectable. burst_fraction, margin: see the module.
        window: the limits' window in seconds (60; shorter in tests, which cannot wait minutes).
        """
        self.provider = provider

        def bucket(limit: int | None) -> TokenBucket | None:
            if not limit:
                return None
            return TokenBucket.for_limit(
                limit, window=window, burst_fraction=burst_fraction, margin=margin, clock=clock
            )

        self._requests = bucket(requests_per_minute)
        self._tokens = bucket(tokens_per_minute)
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

    def pause(self, seconds: float) -> None:
        """The provider said to wait (a 429 with Retry-After): no request or token goes out for `seconds`."""
        with self._lock:
            for bucket in (self._requests, self._tokens):
                if bucket is not None:
                    bucket.pause(seconds)
