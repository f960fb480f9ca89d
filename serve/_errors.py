"""Errors of the proxy, each mapping to one HTTP status and one OpenAI-shaped body.

    MercuryError (bench)
     `-- ProxyError                  anything the proxy reports to a caller (status, provider, model, retriable)
          |-- AuthenticationError    401: the API key is missing or matches no account (the key is never shown)
          |-- PermissionDeniedError  403: a non-admin asked for an admin action or another account
          |-- AccountNotFoundError   404: an admin named an account that does not exist
          |-- InvalidRequestError    400: the request is malformed or breaks a rule (names the field)
          |    |-- LimitExceededError 400: a value is over one of the proxy's limits (names field and limit)
          |    `-- InvalidAccountError 400: a change would make an account invalid (field, value and rule)
          |-- RequestTooLargeError   413: the body is larger than the proxy accepts
          |-- QuotaExceededError     429: the account's quota for a model group would be overspent
          |-- RateLimitedError       429: the provider's rate limit queue is full (carries retry_after)
          |-- CredentialMissingError 503: the provider's credential is not configured (names the key;
          |                          also a bench ModelUnavailableError)
          `-- ProviderError          502/429/504...: the provider failed (status as it answered, if any)

Provider errors are turned into unsuccessful results by the clients (`ProviderFailure`, a `RequestResult` that
also keeps the provider's status and Retry-After, so the OpenAI-compatible API can answer the status OpenAI
would); the others are raised to the HTTP layer, which answers `http_status` with `openai_body()`.
Messages never hold a secret: `redact` removes known secrets (and anything shaped like an API key) from provider
messages before they are kept.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from pydantic import Field

from bench import MercuryError, ModelUnavailableError, RequestResult

_KEY_SHAPED = re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_*\-]{6,}")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every given secret and every `sk-...`-shaped token replaced by `***`."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _KEY_SHAPED.sub("***", text)


class ProxyError(MercuryError):
    """Base of the proxy's errors: what failed, for which provider and model, and whether to retry."""

    http_status: int = 500
    error_type: str = "server_error"

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        retriable: bool = False,
        status: int | None = None,
        param: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.message = message
        self.param = param
        self.retry_after = retry_after
        self.provider = provider
        self.model = model
        self.retriable = retriable
        self.status = status if status is not None else self.http_status
        where = f"{model or provider}: " if (model or provider) else ""
        # Not super(): CredentialMissingError also derives from ModelUnavailableError, whose constructor differs.
        MercuryError.__init__(self, f"{where}{message}")

    def openai_body(self) -> dict[str, Any]:
        """The body an OpenAI-compatible API answers with: `{"error": {"message", "type", "param", "code"}}`.

        The type is the class's, or the status's usual one when the error was made with another status."""
        kind = self.error_type if self.status == self.http_status else _TYPE_OF_STATUS.get(self.status, "server_error")
        return {"error": {"message": str(self), "type": kind, "param": self.param, "code": self.status}}

    @property
    def retry_after_header(self) -> str | None:
        """The `Retry-After` header value: whole seconds, rounded up, at least 1 (None: no header)."""
        return None if self.retry_after is None else str(max(1, math.ceil(self.retry_after)))


_TYPE_OF_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_denied",
    404: "not_found",
    413: "invalid_request_error",
    429: "rate_limit_exceeded",
    503: "model_unavailable",
}


class AuthenticationError(ProxyError):
    """The API key is missing or matches no account."""

    http_status = 401
    error_type = "authentication_error"

    def __init__(self, message: str = "invalid API key (the key is not shown)") -> None:
        super().__init__(message)


class PermissionDeniedError(ProxyError):
    """A non-admin account asked for something only an admin may do."""

    http_status = 403
    error_type = "permission_denied"

    def __init__(self, action: str) -> None:
        super().__init__(f"{action} requires an admin account (or is limited to your own account)")


class AccountNotFoundError(ProxyError):
    """An admin named an account that does not exist (named by description, never by key)."""

    http_status = 404
    error_type = "not_found"

    def __init__(self) -> None:
        super().__init__("no account has that API key")


class InvalidRequestError(ProxyError):
    """The request is not valid JSON, does not have the expected shape, or breaks a rule; `param` names the field."""

    http_status = 400
    error_type = "invalid_request_error"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message, param=param)


class LimitExceededError(InvalidRequestError):
    """A value is over one of the proxy's limits: the message names the field, the value, the limit and why."""

    def __init__(self, *, field: str, value: object, limit: object, rule: str) -> None:
        self.field = field
        self.limit = limit
        shown = value if isinstance(value, str) else repr(value)
        super().__init__(f"field {field!r}: {shown} is over the limit of {limit} ({rule})", param=field)


class RequestTooLargeError(ProxyError):
    """The body is larger than the proxy accepts (checked before it is read in full)."""

    http_status = 413
    error_type = "invalid_request_error"

    def __init__(self, *, size: int | None, limit: int) -> None:
        self.limit = limit
        shown = "" if size is None else f" ({size} bytes)"
        super().__init__(f"the request body{shown} is over the limit of {limit} bytes (limits.max_body_bytes)")


class InvalidAccountError(InvalidRequestError):
    """A change to an account breaks a rule of the accounts file (a negative quota, an unknown granularity)."""

    def __init__(self, problems: str) -> None:
        super().__init__(f"invalid account change, nothing was changed: {problems}")


class QuotaExceededError(ProxyError):
    """Charging the tokens would exceed one of the account's quotas for a model group."""

    http_status = 429
    error_type = "insufficient_quota"

    def __init__(self, *, model_group: str, granularity: str, used: int, quota: int, tokens: int) -> None:
        self.model_group = model_group
        self.granularity = granularity
        super().__init__(
            f"{granularity} quota of model group {model_group!r} exceeded: used {used} of {quota} tokens, "
            f"this request needs {tokens}"
        )


class RateLimitedError(ProxyError):
    """The provider's rate limit would make this request wait longer than allowed; retry after `retry_after`."""

    http_status = 429
    error_type = "rate_limit_exceeded"

    retry_after: float

    def __init__(self, *, provider: str, retry_after: float, limit: str) -> None:
        super().__init__(
            f"rate limit ({limit}) reached; retry after {retry_after:.1f} s",
            provider=provider,
            retriable=True,
            retry_after=retry_after,
        )


class CredentialMissingError(ProxyError, ModelUnavailableError):  # type: ignore[misc]  # model: str here
    """The credential a provider needs is configured neither in credentials.conf nor in the environment.

    Also a bench `ModelUnavailableError`, so `InProcessService` reports it like any unavailable model.
    """

    http_status = 503
    error_type = "model_unavailable"

    def __init__(self, *, model: str, credential: str, where: str) -> None:
        self.credential = credential
        self.reason = f"missing credential {credential!r} ({where})"
        ProxyError.__init__(self, f"unavailable: {self.reason}", model=model)


class ProviderError(ProxyError):
    """The provider failed: rate limited, erred, timed out, dropped the connection, or refused the request.

    `status` is the provider's HTTP status (None when no response came); `retry_after` its Retry-After.
    """

    http_status = 502
    error_type = "provider_error"

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        model: str,
        retriable: bool,
        provider_status: int | None = None,
        retry_after: float | None = None,
        timed_out: bool = False,
    ) -> None:
        self.provider_status = provider_status
        self.timed_out = timed_out
        super().__init__(
            message,
            provider=provider,
            model=model,
            retriable=retriable,
            status=proxy_status(provider_status, timed_out=timed_out),
            retry_after=retry_after,
        )

    def as_result(self, message: str, *, refused: bool = False) -> ProviderFailure:
        """This failure as an unsuccessful result (`message`: the text to keep, secrets already removed;
        `refused`: the request was never sent, the provider's API cannot express it)."""
        return ProviderFailure(
            success=False,
            error=message,
            error_kind="retriable" if self.retriable else "fatal",
            provider_status=self.provider_status,
            retry_after=self.retry_after,
            timed_out=self.timed_out,
            refused=refused,
        )


class ProviderFailure(RequestResult):
    """An unsuccessful `RequestResult` that remembers how the provider failed, for the status the proxy answers.

    The extra fields are excluded from every dump, so the REST API and bench see a plain `RequestResult`;
    they travel between the proxy's processes by pickling (failures are never cached).
    """

    provider_status: int | None = Field(default=None, exclude=True, description="the provider's HTTP status")
    retry_after: float | None = Field(default=None, exclude=True, description="the provider's Retry-After (s)")
    timed_out: bool = Field(default=False, exclude=True, description="no answer came within the timeout")
    refused: bool = Field(default=False, exclude=True, description="not sent: the provider cannot express it")


def failure_error(result: RequestResult) -> ProxyError:
    """The error the OpenAI-compatible API answers for an unsuccessful result, with the status OpenAI would use:
    the provider's 429 (with its Retry-After) and 400 pass through, a request the provider's API cannot express
    is 400, a timeout 504, anything else 502.
    The message is the result's own (it names the model once)."""
    message = result.error or "the provider failed"
    retriable = result.error_kind == "retriable"
    if isinstance(result, ProviderFailure):
        status = 400 if result.refused else proxy_status(result.provider_status, timed_out=result.timed_out)
        return ProxyError(message, retriable=retriable, status=status, retry_after=result.retry_after)
    return ProxyError(message, retriable=retriable, status=502)


def proxy_status(provider_status: int | None, *, timed_out: bool = False) -> int:
    """The status the proxy answers for a provider failure.

    No answer within the timeout: 504; no response otherwise (dropped connection): 502. Provider's 429: 429.
    Provider's 401/403 concern the proxy's own credential, not the caller: 502. Other 4xx are the caller's
    request: 400. 5xx: 502.
    """
    if provider_status is None:
        return 504 if timed_out else 502
    if provider_status == 429:
        return 429
    if 400 <= provider_status < 500 and provider_status not in (401, 403):
        return 400
    return 502
