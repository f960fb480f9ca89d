"""The Ray Serve application: an ingress (HTTP) and one autoscaled deployment per provider.

    HTTP -> Ingress (FastAPI: /api/*, /v1/*, /) -> Provider deployment ("provider-openai", ...) per provider
             |                                      |-- named actor "cache:<provider>:<folder>"  (SharedCache)
             `-- named actor "accounts:all:<folder>" `-- named actor "limits:<provider>:<folder>" (RateLimiters)

`build_app(config)` builds it from configs/model_deployments.yaml; `app_builder(args)` is the same for
`serve deploy configs/serve.yaml`. Deployments are thin: the work is in `ProxyService` and
`ProviderService`, tested without Ray. Errors cross the handle as values (see serve._remote).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from ray import serve
from ray.exceptions import RayError
from ray.serve.exceptions import RayServeException
from ray.serve.handle import DeploymentHandle

from bench import ModelUnavailableError, Request, RequestResult, UnknownModelError
from bench.models import ModelClient
from serve._accounts import Accounts
from serve._errors import ProxyError
from serve._facades import AccountsFacade, RateLimitersFacade, SharedCacheFacade
from serve._limiters import RateLimiters
from serve._plugin_modules import plugin_runtime_env
from serve._provider_service import Answer, Answered, ProviderService, StreamItem, StreamStats, run_in_thread
from serve._proxy_service import ProviderAnswers, ProviderCall, ProviderStream, ProxyService
from serve._remote import actor_name, named_actor
from serve._shared_cache import SharedCache
from serve._wiring import ProxyAppConfig, provider_settings

logger = logging.getLogger(__name__)

MAX_ONGOING = 256  # requests in flight per replica; they mostly wait on I/O (providers, actors)

REPLICA_ENV = {
    "RAY_SERVE_RUN_USER_CODE_IN_SEPARATE_THREAD": "0",
    "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP": "0",
    "RAY_SERVE_REPLICA_GRPC_MAX_MESSAGE_LENGTH": str(64 * 1024 * 1024),
}
"""Serve's documented throughput settings, for our replicas only: their code and their handles' router run on
the replica's own event loop instead of two more threads, which saves every request two cross-thread hand-offs
(~30% of a replica's CPU). Safe because the replicas never block their loop: client calls, file reads and model
loads go to threads. Not for the shard tasks: their handles are called from plain threads without a loop.
And 64 MiB messages between replicas instead of gRPC's 4 MiB: an answer with many logprobs (within
serve._limits.RequestLimits) is larger than 4 MiB, and a larger one would fail inside Serve."""


def _load_plugins(config: dict[str, Any]) -> None:
    """Built-ins, entry points and the app's plug-in modules, before the config is checked (it names clients)."""
    import bench

    bench.load_plugins(config.get("plugins") or ())


@serve.deployment
class ProviderDeployment:
    """One provider's models; the local model's requests are batched across callers with `@serve.batch`."""

    def __init__(self, config: dict[str, Any], provider: str) -> None:
        _load_plugins(config)
        app = ProxyAppConfig.model_validate(config)
        deployments = app.served()[provider]
        servings = {name: app.servings()[name] for name in deployments}
        batching = provider_settings(list(servings.values())).batching
        if batching is not None:
            batch: Any = self._batch  # serve.batch's wrapper has setters its type hints do not show
            batch.set_max_batch_size(batching.max_batch_size)
            batch.set_batch_wait_timeout_s(batching.batch_wait_timeout_s)
        cache = named_actor(actor_name("cache", provider, app.base_path), SharedCache, app.cache_folder(), provider)
        limits = named_actor(actor_name("limits", provider, app.base_path), RateLimiters, provider, servings)
        runner = self._run_batched if batching is not None else run_in_thread
        self.service = ProviderService(
            deployments, servings, SharedCacheFacade(cache), RateLimitersFacade(limits), runner
        )

    async def make_requests(self, requests: list[Request], cached_only: bool = False) -> tuple[bool, Any]:
        """(True, answers) or (False, the error): errors travel as values."""
        try:
            return True, await self.service.make_requests(requests, cached_only=cached_only)
        except Exception as error:
            return False, error

    async def stream_answers(self, requests: list[Request]) -> AsyncGenerator[Answered | Exception, None]:
        """For the ingress's streaming handle: the answers (with their indices) as they are ready; an error
        travels as the last item. Serve cancels this generator when the ingress cancels its call, which
        cancels the upstream calls still under way."""
        try:
            async with contextlib.aclosing(self.service.stream_answers(requests)) as answers:
                async for item in answers:
                    yield item
        except Exception as error:
            yield error

    async def stream_request(self, request: Request) -> AsyncGenerator[StreamItem | Exception, None]:
        """For the ingress's streaming handle: deltas, then the answer; an error travels as the last item.
        Serve cancels this generator when the ingress cancels its call (its client went away), which
        stops the generation (see `ProviderService.stream_request`)."""
        try:
            async with contextlib.aclosing(self.service.stream_request(request)) as items:
                async for item in items:
                    yield item
        except Exception as error:
            yield error

    def stream_stats(self) -> StreamStats:
        """How this replica's streams ended so far (for operators and tests)."""
        return self.service.stream_stats

    async def _run_batched(self, client: ModelClient, requests: list[Request]) -> list[RequestResult]:
        return list(await asyncio.gather(*(self._batch((client, r)) for r in requests)))

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.05)
    async def _batch(self, items: list[tuple[ModelClient, Request]]) -> list[RequestResult]:
        """Requests that arrived together, sent to their clients as one batch per model."""
        by_client: dict[int, list[int]] = defaultdict(list)
        for index, (client, _) in enumerate(items):
            by_client[id(client)].append(index)
        results: dict[int, RequestResult] = {}
        for indices in by_client.values():
            client = items[indices[0]][0]
            answers = await asyncio.to_thread(client.make_requests, [items[i][1] for i in indices])
            results.update(zip(indices, answers))
        return [results[i] for i in range(len(items))]


def _provider_call(handle: DeploymentHandle) -> ProviderCall:
    # Serve's gRPC data plane, as for benchmark-run's tasks; the method's handle made once, not per call
    make_requests = handle.options(method_name="make_requests", _by_reference=False)

    async def call(requests: Sequence[Request], *, cached_only: bool = False) -> list[Answer]:
        try:
            ok, value = await make_requests.remote(list(requests), cached_only)
        except (RayError, RayServeException) as error:
            # the replica died or Serve could not place the call: the model is unavailable for now, not a bug
            logger.warning("provider call failed in Ray: %s", type(error).__name__, exc_info=error)
            raise ProxyError("the model's replica is unavailable; retry later", retriable=True, status=503) from None
        if not ok:
            raise value
        answers: list[Answer] = value
        return answers

    return call


def _provider_answers(handle: DeploymentHandle) -> ProviderAnswers:
    """A provider deployment's `stream_answers` through a streaming handle (a dead replica: 503, after the
    answers that came); closing the returned stream before its end cancels the call."""
    stream_answers = handle.options(method_name="stream_answers", stream=True, _by_reference=False)

    async def call(requests: list[Request]) -> AsyncGenerator[Answered, None]:
        try:
            async with contextlib.aclosing(_forwarded(stream_answers.remote(requests))) as items:
                async for item in items:
                    yield item
        except (RayError, RayServeException) as error:
            logger.warning("provider stream failed in Ray: %s", type(error).__name__, exc_info=error)
            raise ProxyError("the model's replica is unavailable; retry later", retriable=True, status=503) from None

    return call


def _provider_stream(handle: DeploymentHandle) -> ProviderStream:
    """A provider deployment's `stream_request` through a streaming handle; closing the returned stream before
    its end cancels the call, and with it the replica's generation."""
    stream_request = handle.options(method_name="stream_request", stream=True, _by_reference=False)

    async def call(request: Request) -> AsyncGenerator[StreamItem, None]:
        async with contextlib.aclosing(_forwarded(stream_request.remote(request))) as items:
            async for item in items:
                yield item

    return call


async def _forwarded(generator: Any) -> AsyncGenerator[Any, None]:
    """The items of a streaming handle's call (an item that is an exception is raised); closed before its end, it
    cancels the call, and with it the replica's work."""
    finished = False
    try:
        async for item in generator:
            if isinstance(item, Exception):
                raise item
            yield item
        finished = True
    finally:
        if not finished:
            generator.cancel()


@serve.deployment
@serve.ingress()
class Ingress:
    """The HTTP entry point: builds the FastAPI app over a `ProxyService` when the replica starts."""

    def __init__(self, config: dict[str, Any], providers: dict[str, DeploymentHandle]) -> None:
        _load_plugins(config)
        app = ProxyAppConfig.model_validate(config)
        accounts = named_actor(actor_name("accounts", "all", app.base_path), Accounts, app.base_path)
        calls: dict[str, ProviderCall] = {provider: _provider_call(handle) for provider, handle in providers.items()}
        streams = {provider: _provider_stream(handle) for provider, handle in providers.items()}
        answer_streams = {provider: _provider_answers(handle) for provider, handle in providers.items()}
        self.service = ProxyService(
            app.all_deployments(),
            app.servings(),
            AccountsFacade(accounts),
            calls,
            _toxicity(app.base_path),
            streams=streams,
            answer_streams=answer_streams,
            limits=app.limits,
        )
        self.benchmarks = app.benchmarks_folder()

    async def handle_requests(self, api_key: str, requests: list[Request]) -> tuple[bool, Any]:
        """For DeploymentHandle callers (benchmark-run's tasks): (True, answers) or (False, the error)."""
        try:
            return True, await self.service.make_answers(api_key, requests)
        except Exception as error:
            return False, _transportable(error)

    async def stream_answers(self, api_key: str, requests: list[Request]) -> AsyncGenerator[Answered | Exception, None]:
        """For DeploymentHandle callers with a streaming handle (benchmark-run's tasks): the answers as they are
        ready, each (index, answer), those ready together in one item; an error travels as the last item."""
        try:
            async with contextlib.aclosing(self.service.stream_answers(api_key, requests)) as answers:
                async for item in answers:
                    yield item
        except Exception as error:
            yield _transportable(error)

    async def check_access(self, api_key: str, models: list[str]) -> tuple[bool, Any]:
        """For handle callers, before any request: the key opens an account, each model is served here and
        its quota group has quota left. (True, None) or (False, the error)."""
        try:
            await self.service.check_access(api_key, models)
            return True, None
        except Exception as error:
            return False, _transportable(error)

    def __serve_build_asgi_app__(self) -> Any:
        from serve._http import build_http_app

        return build_http_app(self.service, benchmarks_path=self.benchmarks)


def _transportable(error: Exception) -> Exception:
    """`error` as it can cross a handle: a ProxyError as it is; any other error becomes a ProxyError with its
    message and the HTTP status its kind maps to, so the ingress answers it without knowing bench's error types."""
    if isinstance(error, ProxyError):
        return error
    status = 404 if isinstance(error, UnknownModelError) else 503 if isinstance(error, ModelUnavailableError) else 500
    return ProxyError(str(error), status=status)


def _toxicity(base_path: str) -> Any:
    """The Perspective service when a key is configured (else None: /api/toxicity answers 503)."""
    try:
        from bench.metrics import build_toxicity_service
    except ImportError:
        return None
    return build_toxicity_service(base_path)


def build_app(config: ProxyAppConfig) -> serve.Application:
    """The proxy app: an ingress bound to one deployment per provider of the served models."""
    servings = config.servings()
    # the replicas' environment: Serve's throughput settings, and the plug-ins that are not installed
    runtime_env = plugin_runtime_env(config.plugins, {"env_vars": REPLICA_ENV})
    providers = {}
    for provider, deployments in config.served().items():
        settings = provider_settings([servings[name] for name in deployments])
        scaling = settings.autoscaling
        actor_options = {"num_cpus": settings.num_cpus, "runtime_env": runtime_env}
        options: dict[str, Any] = {
            "name": f"provider-{provider}",
            "ray_actor_options": actor_options,
            # the ingress's access log already has every request: a line per inter-deployment call is only cost
            "logging_config": {"enable_access_log": False},
        }
        if scaling.min_replicas == scaling.max_replicas:
            options["num_replicas"] = scaling.max_replicas
        else:
            options["autoscaling_config"] = scaling.model_dump()
        # generous: a replica that refuses makes Serve's router back off, which collapses throughput
        options["max_ongoing_requests"] = max(MAX_ONGOING, int(scaling.target_ongoing_requests * 4))
        deployment = ProviderDeployment.options(**options)  # type: ignore[attr-defined]
        providers[provider] = deployment.bind(config.model_dump(), provider)
    ingress = Ingress.options(  # type: ignore[attr-defined]
        num_replicas=config.ingress_replicas,
        ray_actor_options={"num_cpus": config.ingress_num_cpus, "runtime_env": runtime_env},
        max_ongoing_requests=MAX_ONGOING,
    )
    return ingress.bind(config.model_dump(), providers)


def app_builder(args: dict[str, Any]) -> serve.Application:
    """`serve deploy` entry point: the `args:` of configs/serve.yaml are a `ProxyAppConfig` (its `plugins`
    installed on every node: this runs in Serve's controller, far from the files of whoever deploys)."""
    import bench

    config = ProxyAppConfig.model_validate(args)
    bench.load_plugins(config.plugins)
    return build_app(config)
