"""`RateLimiters`: the rate limits of one provider's models, held by one actor that every replica shares.

Providers limit each model separately (requests and tokens per minute), so the provider's actor keeps
one `ProviderRateLimiter` per model that has limits; a model without limits is never held back.
"""

from __future__ import annotations

from serve._config import ServingConfig
from serve._rate_limit import ProviderRateLimiter


class RateLimiters:
    """Per-model rate limiters of one provider."""

    def __init__(self, provider: str, servings: dict[str, ServingConfig]) -> None:
        self.provider = provider
        self._limiters = {
            model: ProviderRateLimiter(provider, serving.requests_per_minute, serving.tokens_per_minute)
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
