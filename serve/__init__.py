"""Proxy: provider clients, cache, accounts, rate limits (issue 3); the Ray Serve app wraps these classes.

`register_clients()` puts its clients (openai, ai21) in bench's client registry, so that
`bench.models.InProcessService` can call hosted models directly; importing `serve` alone changes nothing.
"""

from serve._accounts import ACCOUNTS_FILE, Account, Accounts, Usage, current_periods, new_api_key
from serve._cache import CacheStats, ResultCache, cache_key
from serve._caching_client import CachingClient
from serve._config import (
    AutoscalingConfig,
    BatchingConfig,
    RetryConfig,
    ServingConfig,
    load_serving_configs,
    proxy_env_path,
    quota_group,
    serving_config,
)
from serve._errors import (
    AccountNotFoundError,
    AuthenticationError,
    CredentialMissingError,
    PermissionDeniedError,
    ProviderError,
    ProxyError,
    QuotaExceededError,
    RateLimitedError,
    redact,
)
from serve._rate_limit import ProviderRateLimiter, TokenBucket
from serve.clients import register_clients

__all__ = [
    "ACCOUNTS_FILE",
    "Account",
    "AccountNotFoundError",
    "Accounts",
    "AuthenticationError",
    "AutoscalingConfig",
    "BatchingConfig",
    "CacheStats",
    "CachingClient",
    "CredentialMissingError",
    "PermissionDeniedError",
    "ProviderError",
    "ProviderRateLimiter",
    "ProxyError",
    "QuotaExceededError",
    "RateLimitedError",
    "ResultCache",
    "RetryConfig",
    "ServingConfig",
    "TokenBucket",
    "Usage",
    "cache_key",
    "current_periods",
    "load_serving_configs",
    "new_api_key",
    "proxy_env_path",
    "quota_group",
    "redact",
    "register_clients",
    "serving_config",
]
