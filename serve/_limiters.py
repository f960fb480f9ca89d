"""`RateLimiters`: the rate limits of one provider's models, held by one actor that every replica shares.

Providers limit each model separately (requests and tokens per minute), so the provider's actor keeps
one `ProviderRateLimiter` per model that has limits; a model without limits is never held back. Because
every replica asks the same actor, a pause after the provider's 429 (`pause`) holds back all of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from serve._config import ServingConfig
from serve._errors import RateLimitedError
from serve._rate_limit import SECONDS_PER_MINUTE, ProviderRateLimiter


class RateLimiters:
    """Per-model rate limiters of one provider."""

    def __init__(
        self,
        provider: str,
        servings: dict[str, ServingConfig],
        clock: Callable[[], float] = time.monotonic,
        window_seconds: float = SECONDS_PER_MINUTE,
    ) -> None:
        """Args:
        provider: the provider's name. servings: its models' settings (limits, burst, margin).
        clock: injectable. window_seconds: the limits' window (60; tests shorten it, never the config).
        """
        self.provider = provider
        self._limiters = {
            model: ProviderRateLimiter(
                provider,
                serving.requests_per_minute,
                serving.tokens_per_minute,
                clock,
                burst_fraction=serving.burst_fraction,
                margin=serving.rate_limit_margin_seconds,
                window=window_seconds,
            )
            for model, serving in servings.items()
            if serving.requests_per_minute or serving.tokens_per_minute
        }

    def acquire(self, model: str, requests: int, tokens: int, max_wait: float) -> float:
        """Reserve `requests` requests and `tokens` tokens of `model`; the seconds to wait before sending.

        Raises:
            RateLimitedError: when the wait would exceed `max_wait` (nothing is reserved).
        """
        limiter = self._limiters.get(model)
        return 0.0 if limiter is None else limiter.acquire(requests, tokens, max_wait)

    def acquire_each(self, model: str, tokens: list[int], max_wait: float) -> list[float | RateLimitedError]:
        """A turn for each of several requests of `model` (one request and `tokens[i]` tokens each), in order:
        the seconds request i waits before it is sent, or the refusal of one that would wait past `max_wait`
        (it reserves nothing; the requests after it may still fit). Each request gets its own turn, so a
        batch larger than the burst is spread out rather than sent at once."""
        turns: list[float | RateLimitedError] = []
        for amount in tokens:
            try:
                turns.append(self.acquire(model, 1, amount, max_wait))
            except RateLimitedError as error:
                turns.append(error)
        return turns

    def pause(self, model: str, seconds: float) -> None:
        """Hold back every request of `model` for `seconds` (the provider answered 429 with Retry-After)."""
        limiter = self._limiters.get(model)
        if limiter is not None:
            limiter.pause(seconds)
