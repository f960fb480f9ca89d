"""`ProviderClient`: what every hosted-provider client shares.

A provider client turns a `Request` into the provider's own request (`provider_request`, a JSON mapping
that is also the cache key, with the request's `random`), sends it with retries (`Retrier`), and turns
the answer into a `RequestResult`. A provider's failure never raises: it comes back as an unsuccessful
result whose error says what the provider said (secrets removed) and whether a retry may pass.

Streaming (`stream_request`) retries the same way until the first text has been sent: after that a retry
would repeat text the caller already has, so a failure ends the stream as a failure.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from bench import ConfigError, Credentials, Request, RequestResult, load_credentials
from bench.models import DeltaCallback, DeltaSink, ModelClient, ModelDeployment, completion_deltas
from serve._config import ServingConfig, proxy_env_path, serving_config
from serve._errors import CredentialMissingError, ProviderError, redact
from serve.clients._retry import Pacer, Retrier

ArgsT = TypeVar("ArgsT", bound=BaseModel)


class ProviderArgs(BaseModel):
    """The `client_args` every provider client reads; a provider's own model adds its fields and defaults."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    credential: str | None = Field(default=None, description="credentials.conf name of the key")
    model: str | None = Field(default=None, description="the provider's name for the model")


ProviderArgsT = TypeVar("ProviderArgsT", bound=ProviderArgs)


def parse_client_args(model: type[ArgsT], deployment: ModelDeployment) -> ArgsT:
    """The deployment's `client_args` checked against `model`.

    Raises:
        ConfigError: naming the model, each bad key and its problem.
    """
    try:
        return model.model_validate(deployment.client_args)
    except ValidationError as error:
        problems = "; ".join(f"key 'client_args.{'.'.join(map(str, e['loc']))}': {e['msg']}" for e in error.errors())
        raise ConfigError("model_deployments.yaml", f"model {deployment.name!r}: {problems}") from None


def resolve_credential(
    deployment: ModelDeployment, name: str | None, credentials: Credentials | None = None
) -> SecretStr | None:
    """The secret called `name` (None when `name` is None: a server that needs no key).

    Args:
        deployment: the model, named in the error.
        name: the credential's name in credentials.conf, e.g. 'openaiApiKey'.
        credentials: where to look (default: `<proxy env>/credentials.conf`, then the environment).

    Raises:
        CredentialMissingError: naming the missing key and where it may be set (never a value).
    """
    if name is None:
        return None
    found = credentials if credentials is not None else load_credentials(proxy_env_path())
    value = found.get(name)
    if value is None or not value.get_secret_value():
        source = found.source or str(Path(proxy_env_path()) / "credentials.conf")
        raise CredentialMissingError(
            model=deployment.name, credential=name, where=f"set it in {source} or its environment variable"
        )
    return value


def chat_messages(request: Request) -> list[dict[str, Any]]:
    """The messages of a chat API's body: the request's own, else its prompt as one user message."""
    if request.messages is not None:
        return [m.model_dump() for m in request.messages]
    return [{"role": "user", "content": request.prompt}]


class ProviderClient(ModelClient, Generic[ProviderArgsT]):
    """Base of the hosted-provider clients: client_args and key, provider request, retries, failures as results."""

    provider: str = "provider"
    args_model: type[ProviderArgsT]
    """The `client_args` model of this provider (set by each subclass)."""

    def __init__(
        self,
        deployment: ModelDeployment,
        *,
        credentials: Credentials | None = None,
        serving: ServingConfig | None = None,
        retrier: Retrier | None = None,
    ) -> None:
        """Build the client; the key is read now, so a missing one is reported before any request.

        Args:
            deployment: the model; its `client_args` are checked against `args_model`.
            credentials: where the key is looked up (default: the proxy's credentials.conf, then the environment).
            serving: retry, timeout and rate settings (default: the deployment's).
            retrier: the retry policy (default: one built from `serving`).

        Raises:
            ConfigError: for bad `client_args`.
            CredentialMissingError: naming the missing credential.
        """
        self.deployment = deployment
        self.serving = serving if serving is not None else serving_config(deployment)
        self.retrier = retrier if retrier is not None else Retrier(self.serving.retry)
        self.timeout = self.retrier.config.request_timeout_seconds  # of one attempt
        self.pacing: Callable[[Request], Pacer] | None = None  # the rate limiter retries ask (set by the proxy)
        self.args = parse_client_args(self.args_model, deployment)
        key = resolve_credential(deployment, self.args.credential, credentials)
        self._secrets: list[str] = [key.get_secret_value()] if key is not None else []
        self.engine = self.args.model or deployment.name.split("/", 1)[-1]
        """The provider's name for the model: `client_args.model`, else the part of the name after the slash."""
        self.connect(key)

    def ready(self) -> None:
        """Build now what `connect` left for the first request (the proxy's replica calls this in a thread
        before its first request, so no request waits for an import); nothing by default."""

    @abstractmethod
    def connect(self, key: SecretStr | None) -> None:
        """Build what sends the requests (an HTTP client, an SDK) with `key` (None: a server that needs none),
        or keep the key to build it on first use when that is costly (the `openai` library's import)."""

    @abstractmethod
    def provider_request(self, request: Request) -> dict[str, Any]:
        """The JSON body (plus route) sent to the provider; with `random`, the cache key.

        Raises:
            ProviderError: (fatal) for a request this provider's API cannot express.
        """

    @abstractmethod
    def send(self, request: Request, provider_request: dict[str, Any]) -> RequestResult:
        """One attempt: the provider's answer as a successful result.

        Raises:
            ProviderError: for any failure (retriable or not).
        """

    def make_request(self, request: Request) -> RequestResult:
        """The provider's answer, retried while it fails in a way that may pass; never raises for its failure."""
        return self._retried(request, lambda body: self.send(request, body))

    def _retried(self, request: Request, attempt: Callable[[dict[str, Any]], RequestResult]) -> RequestResult:
        """`attempt(provider request)` retried by the retrier (each retry taking its rate-limit turn), timed; a
        failure as a result that keeps the provider's status and Retry-After."""
        started = time.perf_counter()
        try:
            body = self.provider_request(request)
        except ProviderError as error:  # the provider's API cannot express this request: the caller's to change
            return error.as_result(redact(str(error), self._secrets), refused=True)
        try:
            pacer = self.pacing(request) if self.pacing is not None else None
            result = self.retrier.call(lambda: attempt(body), pacer)
        except ProviderError as error:
            return error.as_result(redact(str(error), self._secrets))
        return result.model_copy(
            update={"request_time": time.perf_counter() - started, "request_datetime": int(time.time())}
        )

    def send_stream(self, request: Request, provider_request: dict[str, Any], sink: DeltaSink) -> RequestResult:
        """One attempt that sends text to `sink` as the provider produces it; by default the provider's whole
        answer, then its tokens. Clients of providers that stream override it.

        Raises:
            ProviderError: for any failure (retriable or not).
        """
        result = self.send(request, provider_request)
        for delta in completion_deltas(result):
            sink.send(delta.index, delta.text)
        return result

    def stream_request(self, request: Request, on_delta: DeltaCallback) -> RequestResult:
        """`make_request`, sending the text as it comes; retried only while nothing has been sent.

        Raises:
            StreamCancelled: when `on_delta` raises it (the caller went away).
        """
        sink = DeltaSink(on_delta)

        def attempt(body: dict[str, Any]) -> RequestResult:
            try:
                return self.send_stream(request, body, sink)
            except ProviderError as error:
                if sink.sent and error.retriable:
                    raise self.fail(
                        f"{error.message} (after part of the answer was streamed)",
                        retriable=False,
                        status=error.provider_status,
                    ) from None
                raise

        result = self._retried(request, attempt)
        return sink.finish(result) if result.success else result

    def fail(
        self,
        message: str,
        *,
        retriable: bool,
        status: int | None = None,
        retry_after: float | None = None,
        timed_out: bool = False,
    ) -> ProviderError:
        """A `ProviderError` for this client's model, its message cleaned of secrets."""
        return ProviderError(
            redact(message, self._secrets),
            provider=self.provider,
            model=self.deployment.name,
            retriable=retriable,
            provider_status=status,
            retry_after=retry_after,
            timed_out=timed_out,
        )


def is_retriable_status(status: int) -> bool:
    """429 (rate limit), 408 (request timeout) and 5xx may pass on retry; other statuses will not."""
    return status in (408, 429) or status >= 500


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds (HTTP dates are ignored: None)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
