"""`LocalProxyService`: the proxy's services in this process, as a `bench.models.ModelService` for a `Runner`.

Why: a command that finds no cluster runs here while the cluster comes up for the next commands (see
jobs/_bring_up.py), and its requests must still go through the proxy: the same accounts and quotas, the same
response cache and usage accounting as the app on Ray, from the same state folder. `local_service` wires
exactly those services (`ProxyService` over `ProviderService`s); this class calls them with an API key, on an
event loop of its own (the services are asynchronous; the runner calls from its threads).

Sharing the state folder with the app on Ray is safe: accounts are checked and charged under a file lock,
re-read when another process changed them, and the cache is SQLite in WAL mode with a busy timeout. What is
not shared is a provider's rate limiter (in the memory of one process), so a model with a rate limit must
not be served here while the app may serve it too, nor one whose replica batches across callers:
`app_only_models` names them for the caller to check.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from bench import Request, RequestResult
from bench.models import ModelDeployment, get_deployment
from bench.tokenizers import Tokenizer, get_tokenizer
from serve._config import ServingConfig
from serve._wiring import ProxyAppConfig, local_service

CALL_TIMEOUT_SECONDS = 3600.0
"""Deadline of one batch: requests of models without a rate limit (simple, local, an unlimited endpoint),
bounded by their clients' own timeouts; this only keeps a wedged call from hanging the command forever."""


def app_only_models(config: ProxyAppConfig, models: Sequence[str]) -> dict[str, str]:
    """Those of `models` that only the proxy app on Ray serves as their settings ask, each with the reason: a rate
    limit (its limiter lives in one process, the app's: a second one here would let the provider see twice the
    rate) or batching across callers (the model's replica batches every caller's requests on CPUs of its own;
    here each of the runner's threads would compute on its own, and they would fight over the CPU).

    Raises:
        ConfigError: when the serving settings do not validate.
    """
    servings: dict[str, ServingConfig] = config.servings()
    reasons: dict[str, str] = {}
    for model in models:
        serving = servings[model]
        if serving.requests_per_minute is not None or serving.tokens_per_minute is not None:
            reasons[model] = "a rate limit"
        elif serving.batching is not None:
            reasons[model] = "batching across callers"
    return reasons


class LocalProxyService:
    """Requests of one account through the proxy's services wired in this process.

    Args:
        config: the proxy app's settings (state folder, deployments file, plug-ins); `models` limits the
            providers built here to those the runs use.
        api_key: the account the requests are charged to (never shown in a repr or a log).
    """

    def __init__(self, config: ProxyAppConfig, api_key: str) -> None:
        self.config = config
        self._api_key = api_key
        self._proxy = local_service(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="local-proxy", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"LocalProxyService(base_path={self.config.base_path!r})"

    def _run(self, coroutine: Any, timeout: float = CALL_TIMEOUT_SECONDS) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout=timeout)

    def check_access(self, models: Sequence[str]) -> None:
        """Raise the proxy's error when the key opens no account, a model is not served, or a quota is spent."""
        self._run(self._proxy.check_access(self._api_key, list(models)))

    def make_requests(self, requests: Sequence[Request]) -> list[RequestResult]:
        """One result per request, in order (a model's failure is an unsuccessful result).

        Raises:
            ProxyError: when the proxy refuses the batch as a whole (bad key, quota spent, unknown model).
        """
        results: list[RequestResult] = self._run(self._proxy.make_requests(self._api_key, list(requests)))
        return results

    def get_deployment(self, model: str) -> ModelDeployment:
        """The model's deployment from the proxy's deployments file (raises UnknownModelError)."""
        return get_deployment(model, Path(self.config.deployments_file) if self.config.deployments_file else None)

    def get_model_tokenizer(self, model: str) -> Tokenizer:
        """The model's tokenizer, run here."""
        return get_tokenizer(self.get_deployment(model).tokenizer)

    def close(self) -> None:
        """Stop the event loop (the cache's and accounts' files need no closing: every write is complete)."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
