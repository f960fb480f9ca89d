"""Errors of the proxy, each mapping to one HTTP status and one OpenAI-shaped body.

    MercuryError (bench)
     `-- ProxyError                  anything the proxy reports to a caller (status, provider, model, retriable)
          |-- AuthenticationError    401: the API key is missing or matches no account (the key is never shown)
          |-- PermissionDeniedError  403: a non-admin asked for an admin action or another account
          |-- AccountNotFoundError   404: an admin named an account that does not exist
          |-- InvalidAccountError    400: a change would make an account invalid (field, value and rule)
          |-- QuotaExceededError     429: the account's quota for a model group would be overspent
          |-- RateLimitedError       429: the provider's rate limit queue is full (carries retry_after)
          |-- CredentialMissingError 503: the provider's credential is not configured (names the key;
          |                          also a bench ModelUnavailableError)
          `-- ProviderError          502/429/504...: the provider failed (status as it answered, if any)

Provider errors are turned into unsuccessful `RequestResult`s by the clients; the others are raised to the
HTTP layer, which answers `http_status` with `openai_body()`. Messages never hold a secret: `redact`
removes known secrets (and anything shaped like an API key) from provider messages before they are kept.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from bench import MercuryError, ModelUnavailableError

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
    ) -> None:
        self.message = message
        self.provider = provider
        self.model = model
        self.retriable = retriable
        self.status = status if status is not None else self.http_status
        where = f"{model or provider}: " if (model or provider) else ""
        # Not super(): CredentialMissingError also derives from ModelUnavailableError, whose constructor differs.
        MercuryError.__init__(self, f"{where}{message}")

    def openai_body(self) -> dict[str, Any]:
        """The body an OpenAI-compatible API answers with: `{"error": {"message", "type", "code", ...}}`."""
        return {"error": {"message": str(self), "type": self.error_type, "param": None, "code": self.status}}


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


class InvalidAccountError(ProxyError):
    """A change to an account breaks a rule of the accounts file (a negative quota, an unknown granularity)."""

    http_status = 400
    error_type = "invalid_request_error"

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

    def __init__(self, *, provider: str, retry_after: float, limit: str) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"rate limit ({limit}) reached; retry after {retry_after:.1f} s", provider=provider, retriable=True
        )

    @property
    def retry_after_header(self) -> str:
        """The `Retry-After` header value: whole seconds, rounded up, at least 1."""
        return str(max(1, math.ceil(self.retry_after)))


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
    ) -> None:
        self.provider_status = provider_status
        self.retry_after = retry_after
        super().__init__(
            message, provider=provider, model=model, retriable=retriable, status=_proxy_status(provider_status)
        )


def _proxy_status(provider_status: int | None) -> int:
    """The status the proxy answers for a provider failure.

    No response (timeout, dropped connection): 504. Provider's 429: 429. Provider's 401/403 concern the
    proxy's own credential, not the caller: 502. Other 4xx are the caller's request: 400. 5xx: 502.
    """
    if provider_status is None:
        return 504
    if provider_status == 429:
        return 429
    if 400 <= provider_status < 500 and provider_status not in (401, 403):
        return 400
    return 502
