"""The `ModelClient` interface (one per kind of provider) and its registry."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence

from bench._registry import Registry
from bench._request import Request, RequestResult
from bench.models._deployment import ModelDeployment
from bench.models._streaming import DeltaCallback, stream_finished

ClientFactory = Callable[[ModelDeployment], "ModelClient"]

CLIENTS: Registry[ClientFactory] = Registry("model client")


def client(name: str) -> Callable[[ClientFactory], ClientFactory]:
    """Register a factory that builds the client called `name` for a deployment."""
    return CLIENTS.register(name)


class ModelClient(ABC):
    """Sends Requests to one model and returns RequestResults; never raises for a model's failure."""

    @abstractmethod
    def make_request(self, request: Request) -> RequestResult:
        """Answer one request. Provider failures come back as unsuccessful results, not exceptions."""

    def make_requests(self, requests: Sequence[Request]) -> list[RequestResult]:
        """Answer many requests; clients that batch (the local model) override this."""
        return [self.make_request(r) for r in requests]

    def stream_request(self, request: Request, on_delta: DeltaCallback) -> RequestResult:
        """Answer one request, sending its completions' text to `on_delta` as it is produced.

        This default answers first and then sends the finished completions token by token; clients that
        generate token by token (the local model) or read a provider's stream (openai) override it.

        Raises:
            StreamCancelled: when `on_delta` raises it (the consumer went away); never for a model's failure.
        """
        return stream_finished(self.make_request(request), on_delta)
