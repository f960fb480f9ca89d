"""`InProcessService`: executes requests with clients that run in this process (simple, local).

Hosted models (openai, ai21, ...) have no in-process client until the proxy (serve/) registers one; a
request for them raises `ModelUnavailableError` saying so.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from bench._errors import ModelUnavailableError
from bench._request import Request, RequestResult
from bench.models._client import CLIENTS, ModelClient
from bench.models._deployment import ModelDeployment
from bench.models._deployments import get_deployment
from bench.tokenizers._tokenizer import Tokenizer, get_tokenizer


class InProcessService:
    """Routes each request, by model name, to the client its deployment names (one client per model)."""

    def __init__(self, deployments_file: Path | str | None = None) -> None:
        """Create a service over the deployments in `deployments_file` (default: configs/model_deployments.yaml)."""
        self.deployments_file = deployments_file
        self._clients: dict[str, ModelClient] = {}
        self._lock = threading.Lock()

    def make_requests(self, requests: Sequence[Request]) -> list[RequestResult]:
        """One result per request, in order; each model's requests go to its client as one batch.

        Raises:
            UnknownModelError: for a model no deployment describes.
            ModelUnavailableError: for a model whose client cannot run in-process (or lacks packages).
        """
        by_model: dict[str, list[int]] = defaultdict(list)
        for index, request in enumerate(requests):
            by_model[request.model].append(index)
        results: dict[int, RequestResult] = {}
        for model, indices in by_model.items():
            answers = self.client_for(model).make_requests([requests[i] for i in indices])
            results.update(zip(indices, answers))
        return [results[i] for i in range(len(requests))]

    def make_request(self, request: Request) -> RequestResult:
        """The result of one request (see `make_requests`)."""
        return self.make_requests([request])[0]

    def get_deployment(self, model: str) -> ModelDeployment:
        """The deployment of `model`.

        Raises:
            UnknownModelError: listing the known models.
        """
        return get_deployment(model, self.deployments_file)

    def get_model_tokenizer(self, model: str) -> Tokenizer:
        """The tokenizer named by `model`'s deployment.

        Raises:
            UnknownModelError: for an unknown model.
            LookupError: if the deployment names an unregistered tokenizer.
        """
        return get_tokenizer(self.get_deployment(model).tokenizer)

    def client_for(self, model: str) -> ModelClient:
        """The client of `model`, built on first use.

        Raises:
            UnknownModelError: for an unknown model.
            ModelUnavailableError: if the deployment's client is not registered in this process.
        """
        with self._lock:
            if model not in self._clients:
                deployment = self.get_deployment(model)
                if deployment.client not in CLIENTS:
                    raise ModelUnavailableError(
                        model,
                        f"client {deployment.client!r} does not run in-process (in-process clients: "
                        f"{', '.join(CLIENTS.names()) or 'none'}); hosted models run through the proxy",
                    )
                self._clients[model] = CLIENTS.get(deployment.client)(deployment)
            return self._clients[model]
