"""Where a shard task gets its `ModelService`: a picklable factory, called once per worker process.

- `ProxyHandleServiceFactory` (benchmark-run's default): requests go to the proxy app deployed on the same Ray
  cluster, a batch per call of its ingress through a DeploymentHandle, so the proxy's cache, quotas and shared rate
  limits apply. The answers of a call stream back as each is ready (`stream_requests`), so the request sender's
  window of requests in flight refills without waiting for a batch's slowest. Answers the rate limit refused are
  sent again after their `retry_after`. Every call has a deadline (for a hosted model, the longest call its serving
  settings allow, `call_deadline`: a call lost with its node is noticed within a minute or so with small settings,
  four with the defaults), and a call that dies with its replica (killed, out of memory, its node gone) or cannot be
  placed is sent again until the replica is back, for a bounded time: then the batch fails, its requests are
  recorded as retriable failures, and the run ends incomplete and resumable, never hung.
- `ProxyHttpServiceFactory`: a proxy elsewhere, over HTTP(S) with an API key (`serve.ProxyClient`).
- `InProcessServiceFactory` (`--direct`, debugging): the task calls the models itself.

A worker process runs many shards, so the service a factory builds is kept per process (keyed by the
pickled factory): a handle or HTTP connection is made, and the local model loaded, once per worker.
Whatever the path, a result keeps `cached`, which the tasks count as cache hits.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
import typing
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench
from bench import ConfigError, Request, RequestResult
from bench.models import CLIENTS, InProcessService, ModelDeployment, ModelService, get_deployment
from bench.tokenizers import Tokenizer, get_tokenizer
from cluster._errors import ProxyUnavailableError
from serve import APP_NAME, ServingConfig, serving_config

logger = logging.getLogger(__name__)

ServiceFactory = Callable[[], ModelService]
"""Builds the service a task sends its requests to; must pickle (it travels to the task)."""

T = typing.TypeVar("T")
_built: dict[bytes, Any] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class InProcessServiceFactory:
    """Builds an `InProcessService` in the task's process (simple and local models; hosted ones with keys).

    Args:
        deployments_file: configs/model_deployments.yaml by default.
        hosted_clients: also register the proxy's hosted clients (openai, ai21), as benchmark-run does.
    """

    deployments_file: str | None = None
    hosted_clients: bool = True

    def __call__(self) -> ModelService:
        bench.load_builtins()
        if self.hosted_clients:
            from serve import register_clients

            register_clients()
        return InProcessService(Path(self.deployments_file) if self.deployments_file else None)


DEFAULT_APP_NAME = APP_NAME
"""The proxy app's name on Serve (as in configs/serve.yaml and proxy-server)."""

CALL_TIMEOUT_SECONDS = 300.0
"""Deadline of one call of the ingress when nothing bounds its work (the access check, a local or simple model,
whose requests wait in the replica's queue for as long as the model takes): a call past it is stuck on a replica
that is gone."""
CALL_MARGIN_SECONDS = 30.0
"""What a hosted model's call may take beyond its model's own bounded waits: the hops between the ingress, the
provider replica and the state actors, and their queues on a busy cluster."""
UNAVAILABLE_SECONDS = 180.0
"""How long a batch waits for the proxy's replicas to come back after its first failed call (Serve restarts a
dead one in seconds; on a lost node, once Ray has declared the node dead and placed the replica elsewhere)."""


def call_deadline(deployment: ModelDeployment) -> float:
    """The deadline of an ingress call with requests for `deployment`: the longest such a call legitimately takes.

    A hosted model's client (a `serve.clients.ProviderClient`) bounds every wait from its serving settings: the
    rate limit's queue (`max_queue_wait_seconds`), then retries that start no later than `retry.max_total_seconds`,
    the last of which takes at most `retry.request_timeout_seconds`; plus `CALL_MARGIN_SECONDS`. A call still
    unanswered then was lost with its replica (its node died before Ray noticed), so it is sent again within
    about a minute with small settings, instead of after `CALL_TIMEOUT_SECONDS`. Other clients keep that fixed
    deadline, as does a deployment whose settings do not validate (the proxy refuses it anyway).
    """
    from serve.clients import ProviderClient, register_clients

    register_clients()  # a shard task's process has bench's built-ins only; idempotent
    if not _returns(CLIENTS, deployment.client, ProviderClient):
        return CALL_TIMEOUT_SECONDS
    try:
        serving: ServingConfig = serving_config(deployment)
    except ConfigError:
        return CALL_TIMEOUT_SECONDS
    retry = serving.retry
    waits = serving.max_queue_wait_seconds + retry.max_total_seconds + retry.request_timeout_seconds
    return waits + CALL_MARGIN_SECONDS


def _returns(registry: Any, name: str, kind: type) -> bool:
    """Whether the factory registered as `name` is declared to build a `kind` (its return annotation)."""
    try:
        built = typing.get_type_hints(registry.get(name)).get("return")
    except Exception:  # an unknown name, or a factory without resolvable annotations: not known to be one
        return False
    return isinstance(built, type) and issubclass(built, kind)


class ProxyHandleService:
    """A `ModelService` over the proxy app's ingress DeploymentHandle (see `ProxyHandleServiceFactory`).

    Raises (from make_requests): ProxyError for an answer the proxy refused as a whole (bad key, quota,
    unknown model); the request sender records it on each request of the batch.
    """

    def __init__(
        self,
        app_name: str,
        api_key: str,
        deployments_file: str | None = None,
        max_retry_seconds: float = 600.0,
        call_timeout: float | None = None,
        unavailable_seconds: float = UNAVAILABLE_SECONDS,
    ) -> None:
        from ray import serve

        logging.getLogger("ray.serve").setLevel(logging.WARNING)  # its router logs a line per handle in each task
        # _by_reference=False: requests and answers go straight to the replica over Serve's gRPC data plane
        # instead of through Ray's object store (Serve's throughput mode; ~15% more calls per second here)
        handle: Any = serve.get_app_handle(app_name).options(_by_reference=False)
        # made once, not per call
        self._methods = {name: handle.options(method_name=name) for name in ("handle_requests", "check_access")}
        self._stream_answers = handle.options(method_name="stream_answers", stream=True)
        self._streams = True
        """False once the app running is found to answer whole calls only (deployed by an older Mercury)."""
        self._api_key = api_key
        self.deployments_file = deployments_file
        self.max_retry_seconds = max_retry_seconds
        self.call_timeout = call_timeout
        """The deadline of every call; None: `call_deadline` of the batch's models (see `_deadline`)."""
        self.unavailable_seconds = unavailable_seconds
        self._deadlines: dict[str, float] = {}

    def _deadline(self, requests: Sequence[Request]) -> float:
        """`call_timeout` if set, else the longest `call_deadline` of the requests' models."""
        if self.call_timeout is not None:
            return self.call_timeout
        return max((self._model_deadline(model) for model in {r.model for r in requests}), default=CALL_TIMEOUT_SECONDS)

    def _model_deadline(self, model: str) -> float:
        if model not in self._deadlines:
            try:
                self._deadlines[model] = call_deadline(self.get_deployment(model))
            except Exception:  # an unknown model: the proxy says so in its answer, under the fixed deadline
                self._deadlines[model] = CALL_TIMEOUT_SECONDS
        return self._deadlines[model]

    def _call(self, name: str, timeout: float, *args: Any) -> tuple[bool, Any]:
        """The ingress method `name`'s value for `args` within `timeout`; sent again (backoff 1, 2, 4, ... 10 s)
        while the replica is dead, restarting or cannot be placed, for at most `unavailable_seconds` after the
        first failure (a call that timed out is cancelled first, and the next one may reach a new replica).

        Raises:
            ProxyUnavailableError: when no replica answered in that time (or every answer was the ingress's
                503 for a provider replica that is unavailable).
        """
        from ray.exceptions import RayError
        from ray.serve.exceptions import RayServeException

        first_failure: float | None = None
        delay = 1.0
        while True:
            response = self._methods[name].remote(*args)
            try:
                ok, value = response.result(timeout_s=timeout)
                if ok or not _unavailable(value):
                    return ok, value
                cause = str(value)  # the ingress could not reach a provider replica (dead, restarting): 503
            except (TimeoutError, RayError, RayServeException) as error:
                response.cancel()
                cause = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            first_failure = time.monotonic() if first_failure is None else first_failure
            elapsed = time.monotonic() - first_failure
            if elapsed + delay > self.unavailable_seconds:
                raise ProxyUnavailableError(name, elapsed, cause) from None
            logger.warning("proxy call failed (%s); again in %.0f s", cause, delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)

    def check_access(self, models: Sequence[str]) -> None:
        """Raise the proxy's error when the key opens no account, a model is not served, or a quota is spent."""
        timeout = self.call_timeout if self.call_timeout is not None else CALL_TIMEOUT_SECONDS
        ok, error = self._call("check_access", timeout, self._api_key, list(models))
        if not ok:
            raise error

    def make_requests(self, requests: Sequence[Request]) -> list[RequestResult]:
        """One result per request, in order; requests the rate limit refused wait their turn and go again."""
        results: dict[int, RequestResult] = {}
        pending = list(range(len(requests)))
        deadline = time.monotonic() + self.max_retry_seconds
        while pending:
            batch = [requests[i] for i in pending]
            ok, value = self._call("handle_requests", self._deadline(batch), self._api_key, batch)
            if not ok:
                raise value
            refused: list[int] = []
            wait = 0.0
            for index, answer in zip(pending, value):
                if answer.retry_after is not None and time.monotonic() + answer.retry_after < deadline:
                    refused.append(index)
                    wait = max(wait, answer.retry_after)
                else:
                    results[index] = answer.result
            pending = refused
            if pending:
                logger.debug("%d requests refused by the rate limit; again in %.1f s", len(pending), wait)
                time.sleep(wait)
        return [results[i] for i in range(len(requests))]

    def stream_requests(self, requests: Sequence[Request]) -> Iterator[tuple[int, RequestResult]]:
        """Each request's index and result as soon as the proxy has it (the ingress's `stream_answers`), so
        the request sender keeps its window full; the same guarantees as `make_requests`: requests the rate limit
        refused wait their turn and go again; a stream lost with its replica (or past its deadline) is sent
        again, for its unanswered requests only, as `_call` does, for at most `unavailable_seconds`. A proxy app
        deployed by a Mercury without streams gets whole calls (`make_requests`).

        Raises (possibly after some results): ProxyError for an answer the proxy refused as a whole;
        ProxyUnavailableError.
        """
        pending = list(range(len(requests)))
        deadline = time.monotonic() + self.max_retry_seconds
        first_failure: float | None = None
        delay = 1.0
        while pending:
            batch = [requests[i] for i in pending]
            if not self._streams:  # a proxy app deployed before streams: whole calls
                yield from zip(pending, self.make_requests(batch))
                return
            answered: set[int] = set()
            refused: list[int] = []
            wait = 0.0
            try:
                for ready in self._stream(batch):
                    for position, answer in ready:
                        index = pending[position]
                        answered.add(index)
                        if answer.retry_after is not None and time.monotonic() + answer.retry_after < deadline:
                            refused.append(index)
                            wait = max(wait, answer.retry_after)
                        else:
                            yield index, answer.result
            except _NoStreams:
                self._streams = False
                pending = [i for i in pending if i not in answered or i in refused]
                continue
            except _StreamLost as lost:
                first_failure = time.monotonic() if first_failure is None else first_failure
                elapsed = time.monotonic() - first_failure
                if elapsed + delay > self.unavailable_seconds:
                    raise ProxyUnavailableError("stream_answers", elapsed, lost.cause) from None
                logger.warning("proxy call failed (%s); again in %.0f s", lost.cause, delay)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
                pending = [i for i in pending if i not in answered or i in refused]
                continue
            pending = refused
            if pending:
                logger.debug("%d requests refused by the rate limit; again in %.1f s", len(pending), wait)
                time.sleep(wait)

    def _stream(self, requests: list[Request]) -> Iterator[list[tuple[int, Any]]]:
        """The ingress's `stream_answers` items for `requests` (answers ready together, each (index, answer)),
        cancelled at the call's deadline.

        Raises:
            _StreamLost: the replica died, the call could not be placed, the deadline passed, or the ingress
                answered 503 (a provider replica unavailable).
            ProxyError: the proxy refused the call (bad key, quota, unknown model).
        """
        from ray.exceptions import RayError
        from ray.serve.exceptions import RayServeException

        response = self._stream_answers.remote(self._api_key, requests)
        timer = threading.Timer(self._deadline(requests), response.cancel)
        timer.daemon = True
        timer.start()
        finished = False
        try:
            for item in response:
                if isinstance(item, Exception):
                    if _unavailable(item):
                        raise _StreamLost(str(item))
                    raise item
                yield item
            finished = True
        except (RayError, RayServeException) as error:
            if "Tried to call a method 'stream_answers' that does not exist" in str(error):
                raise _NoStreams() from None
            cause = "deadline passed" if not timer.is_alive() else type(error).__name__
            raise _StreamLost(f"{cause}: {str(error).splitlines()[0] if str(error) else ''}") from None
        finally:
            timer.cancel()
            if not finished:
                response.cancel()

    def get_deployment(self, model: str) -> ModelDeployment:
        """The model's deployment from the task's configs (raises UnknownModelError)."""
        return get_deployment(model, Path(self.deployments_file) if self.deployments_file else None)

    def get_model_tokenizer(self, model: str) -> Tokenizer:
        """The model's tokenizer, run in the task."""
        return get_tokenizer(self.get_deployment(model).tokenizer)


@dataclass(frozen=True)
class ProxyHandleServiceFactory:
    """Builds a `ProxyHandleService` in the task's process: requests go through the deployed proxy app.

    Args:
        api_key: the account the requests are charged to (never shown in a repr or a log).
        app_name: the proxy app's name on Serve.
        deployments_file: configs/model_deployments.yaml by default (for tokenizers and context windows).
        max_retry_seconds: how long a batch keeps resending requests the rate limit refused.
    """

    api_key: str = field(repr=False)
    app_name: str = DEFAULT_APP_NAME
    deployments_file: str | None = None
    max_retry_seconds: float = 600.0

    def __call__(self) -> ProxyHandleService:
        bench.load_builtins()
        return ProxyHandleService(self.app_name, self.api_key, self.deployments_file, self.max_retry_seconds)


@dataclass(frozen=True)
class ProxyHttpServiceFactory:
    """Builds a `serve.ProxyClient` in the task's process: requests go to a proxy elsewhere over HTTP(S).

    Args:
        url: the proxy's root, e.g. 'https://proxy.example.org:1959'.
        api_key: the account's key (sent in the Authorization header; never shown in a repr or a log).
        verify: TLS check: True, False, or a CA file for a private CA.
        deployments_file: configs/model_deployments.yaml by default (for tokenizers and context windows).
    """

    url: str
    api_key: str = field(repr=False)
    verify: bool | str = True
    deployments_file: str | None = None

    def __call__(self) -> ModelService:
        from serve import ProxyClient

        bench.load_builtins()
        return ProxyClient(self.url, self.api_key, verify=self.verify, deployments_file=self.deployments_file)


class _NoStreams(Exception):
    """The proxy app running was deployed by a Mercury without `stream_answers`: its calls go whole."""


class _StreamLost(Exception):
    """A stream of answers ended before its last answer for a reason worth sending it again."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


def _unavailable(error: Any) -> bool:
    """Whether the ingress's refusal says a replica is unavailable for now (a retriable 503)."""
    return bool(getattr(error, "retriable", False)) and getattr(error, "status", None) == 503


def built_once(factory: Callable[[], T]) -> T:
    """What `factory` builds, built once per process for equal factories (a service, a toxicity service)."""
    try:
        key = pickle.dumps(factory)
    except Exception:  # an unpicklable-by-pickle factory (e.g. a closure sent by cloudpickle): no reuse
        return factory()
    with _lock:
        if key not in _built:
            _built[key] = factory()
        return typing.cast(T, _built[key])
