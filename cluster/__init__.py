"""Ray execution of bench's pipeline, the proxy's handles for it, and publishing a site to S3.

`RayExecution` runs a run's preparing and shards (bench.runner) as Ray tasks, or on warm workers (`WarmPool`:
detached actors that outlive a command, so a command on a running cluster does not pay for cold worker
processes): a run on Ray is bench's `Runner(RayExecution(...), ...)`. Tasks get their model service from a
picklable factory: `ProxyHandleServiceFactory` (the proxy app's DeploymentHandle, the default),
`ProxyHttpServiceFactory` (a proxy elsewhere, `--proxy-url`) or `InProcessServiceFactory` (`--direct`, the models in
the task itself). `publish_site` uploads a site that benchmark-present wrote to S3.
Importing the package does not import Ray: the names that need it (or the proxy, or the site) are imported on first
use.
"""

import importlib
from typing import TYPE_CHECKING, Any

from cluster._errors import ClusterError, ProxyUnavailableError

if TYPE_CHECKING:  # imported on first use (see __getattr__): these modules import Ray, the proxy or pyarrow
    from cluster._publish import PublishResult, publish_site
    from cluster._ray_execution import RayExecution
    from cluster._service import (
        DEFAULT_APP_NAME,
        InProcessServiceFactory,
        ProxyHandleService,
        ProxyHandleServiceFactory,
        ProxyHttpServiceFactory,
        ServiceFactory,
        built_once,
    )
    from cluster._tasks import run_shard_task
    from cluster._warm import WarmPool, code_digest, warm_pool, warm_workers_enabled

_LAZY_MODULES = {
    "cluster._publish": ("PublishResult", "publish_site"),
    "cluster._ray_execution": ("RayExecution",),
    "cluster._service": (
        "DEFAULT_APP_NAME",
        "InProcessServiceFactory",
        "ProxyHandleService",
        "ProxyHandleServiceFactory",
        "ProxyHttpServiceFactory",
        "ServiceFactory",
        "built_once",
    ),
    "cluster._tasks": ("run_shard_task",),
    "cluster._warm": ("WarmPool", "code_digest", "warm_pool", "warm_workers_enabled"),
}
_LAZY = {name: module for module, names in _LAZY_MODULES.items() for name in names}
"""Public names imported on first use: `import cluster` must not import Ray, so that benchmark-run answers what needs
no cluster (nothing to do, a missing bucket: bench.runner) in a fraction of a second."""


def __getattr__(name: str) -> Any:
    """A lazily imported public name (PEP 562), cached in the package once imported."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cluster' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_APP_NAME",
    "ClusterError",
    "InProcessServiceFactory",
    "ProxyHandleService",
    "ProxyHandleServiceFactory",
    "ProxyHttpServiceFactory",
    "ProxyUnavailableError",
    "PublishResult",
    "RayExecution",
    "ServiceFactory",
    "WarmPool",
    "built_once",
    "code_digest",
    "publish_site",
    "run_shard_task",
    "warm_pool",
    "warm_workers_enabled",
]
