"""Proxy: provider clients, cache, accounts, rate limits, and the services the Ray Serve app wraps.

The Ray Serve app itself is `serve._app.build_app(ProxyAppConfig(...))` (imported on demand: it needs Ray);
`local_service(config)` wires the same services in one process (`LocalProxyService` calls them with an account's
key, as a runner's `ModelService`). `ProxyClient` talks to a remote proxy.

`register_clients()` puts its clients (openai, ai21) in bench's client registry, so that
`bench.models.InProcessService` can call hosted models directly; importing `serve` alone changes nothing.
"""

from serve._accounts import ACCOUNTS_FILE, Account, Accounts, Usage, current_periods, hash_key, new_api_key
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
    InvalidAccountError,
    InvalidRequestError,
    LimitExceededError,
    PermissionDeniedError,
    ProviderError,
    ProviderFailure,
    ProxyError,
    QuotaExceededError,
    RateLimitedError,
    RequestTooLargeError,
    redact,
)
from serve._facades import AccountsFacade, RateLimitersFacade, SharedCacheFacade
from serve._limiters import RateLimiters
from serve._limits import RequestLimits
from serve._local_proxy import LocalProxyService, app_only_models
from serve._plugin_modules import plugin_runtime_env
from serve._provider_service import Answer, ProviderService, StreamItem, StreamStats
from serve._proxy_client import ProxyClient
from serve._proxy_service import ProxyService
from serve._rate_limit import ProviderRateLimiter, TokenBucket
from serve._remote import ActorRemote, LocalRemote, Remote
from serve._shared_cache import SharedCache, SharedCacheStats
from serve._state_files import private_file, private_folder
from serve._wiring import APP_NAME, ProxyAppConfig, local_service
from serve.clients import register_clients

__all__ = [
    "ACCOUNTS_FILE",
    "APP_NAME",
    "Account",
    "AccountNotFoundError",
    "Accounts",
    "AccountsFacade",
    "ActorRemote",
    "Answer",
    "AuthenticationError",
    "AutoscalingConfig",
    "BatchingConfig",
    "CacheStats",
    "CachingClient",
    "CredentialMissingError",
    "InvalidAccountError",
    "InvalidRequestError",
    "LimitExceededError",
    "LocalProxyService",
    "LocalRemote",
    "PermissionDeniedError",
    "ProviderError",
    "ProviderFailure",
    "ProviderRateLimiter",
    "ProviderService",
    "ProxyAppConfig",
    "ProxyClient",
    "ProxyError",
    "ProxyService",
    "QuotaExceededError",
    "RateLimitedError",
    "RateLimiters",
    "RateLimitersFacade",
    "Remote",
    "RequestLimits",
    "RequestTooLargeError",
    "ResultCache",
    "RetryConfig",
    "ServingConfig",
    "SharedCache",
    "SharedCacheFacade",
    "SharedCacheStats",
    "StreamItem",
    "StreamStats",
    "TokenBucket",
    "Usage",
    "app_only_models",
    "cache_key",
    "current_periods",
    "hash_key",
    "load_serving_configs",
    "local_service",
    "new_api_key",
    "plugin_runtime_env",
    "private_file",
    "private_folder",
    "proxy_env_path",
    "quota_group",
    "redact",
    "register_clients",
    "serving_config",
]
