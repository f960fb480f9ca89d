"""`CachingClient`: a provider client behind its provider's `ResultCache`."""

from __future__ import annotations

from bench import Request, RequestResult
from bench.models import ModelClient
from serve._cache import ResultCache, cache_key
from serve._errors import ProviderError
from serve.clients import ProviderClient


class CachingClient(ModelClient):
    """Answers from the cache when it can, else from the client (storing successes)."""

    def __init__(self, client: ProviderClient, cache: ResultCache) -> None:
        self.client = client
        self.cache = cache

    def make_request(self, request: Request) -> RequestResult:
        """The cached result (cached: true, original request time) or a fresh one from the provider."""
        try:
            key = cache_key(self.client.provider_request(request), request.random)
        except ProviderError:
            return self.client.make_request(request)  # a request the API cannot express: its failure, uncached
        return self.cache.get_or_compute(key, lambda: self.client.make_request(request))
