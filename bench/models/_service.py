"""`ModelService`: what the runner needs to execute requests, whoever serves them.

`InProcessService` (bench) answers with in-process clients; the proxy (serve/) implements the same
methods over its deployments, so the runner works with either. A service that can give each answer as soon
as it is ready (`StreamingModelService`, the proxy through its handle) lets the request sender keep its requests in
flight without waiting for each batch's slowest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from bench._request import Request, RequestResult
from bench.models._deployment import ModelDeployment
from bench.tokenizers._tokenizer import Tokenizer


@runtime_checkable
class ModelService(Protocol):
    """Executes requests for any known model and tells what the runner needs to know about a model."""

    def make_requests(self, requests: Sequence[Request]) -> list[RequestResult]:
        """One result per request, in order; a model's failure is an unsuccessful result."""
        ...

    def get_model_tokenizer(self, model: str) -> Tokenizer:
        """The tokenizer that counts `model`'s tokens."""
        ...

    def get_deployment(self, model: str) -> ModelDeployment:
        """What the project knows about `model` (context window, prices, ...)."""
        ...


@runtime_checkable
class StreamingModelService(ModelService, Protocol):
    """A `ModelService` that also answers a call's requests one by one, as each is ready."""

    def stream_requests(self, requests: Sequence[Request]) -> Iterator[tuple[int, RequestResult]]:
        """Each request's index and result, in the order they are ready; every index exactly once.

        Raises (possibly after some results): what `make_requests` raises for the whole call.
        """
        ...
