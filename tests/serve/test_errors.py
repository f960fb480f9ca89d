"""Proxy errors: one HTTP status each, OpenAI-shaped bodies, secrets redacted."""

from __future__ import annotations

import pytest

from bench import ConfigError, ModelUnavailableError
from bench.models import ModelDeployment
from serve import CredentialMissingError, ProviderError, QuotaExceededError, RateLimitedError, redact
from serve.clients import OpenAIClient


def test_redact_removes_given_secrets_and_key_shaped_tokens() -> None:
    assert redact("key abc123 and sk-proj-AbCdEf123456 end", ["abc123"]) == "key *** and *** end"


@pytest.mark.parametrize(
    ("provider_status", "timed_out", "status"),
    [(None, True, 504), (None, False, 502), (429, False, 429), (400, False, 400), (404, False, 400),
     (401, False, 502), (500, False, 502)],
)  # fmt: skip
def test_provider_error_status(provider_status: int | None, timed_out: bool, status: int) -> None:
    """No answer in time is 504, a dropped connection 502; the provider's 429 and its 4xx pass through."""
    error = ProviderError(
        "x", provider="openai", model="openai/m", retriable=False, provider_status=provider_status, timed_out=timed_out
    )
    assert error.status == status


def test_bodies_and_kinds() -> None:
    quota = QuotaExceededError(model_group="openai", granularity="daily", used=5, quota=5, tokens=1)
    assert quota.status == 429 and quota.openai_body()["error"]["type"] == "insufficient_quota"
    limited = RateLimitedError(provider="openai", retry_after=2.2, limit="requests per minute")
    assert (limited.retry_after_header, limited.retriable) == ("3", True)
    missing = CredentialMissingError(model="ai21/j", credential="ai21ApiKey", where="set it in x")
    assert isinstance(missing, ModelUnavailableError) and missing.status == 503
    assert str(missing) == "ai21/j: unavailable: missing credential 'ai21ApiKey' (set it in x)"


def test_bad_client_args_name_model_and_key() -> None:
    deployment = ModelDeployment(
        name="openai/m", client="openai", tokenizer="t", context_window=5, client_args={"api": "edits", "url": "u"}
    )
    with pytest.raises(ConfigError, match=r"model 'openai/m': key 'client_args.api': .*; key 'client_args.url': Extra"):
        OpenAIClient(deployment)
