"""Ray execution: storage (local folder or S3), sharding, shard tasks and the sharded runner.

`RayRunner` runs RunSpecs like bench's `Runner`, with execution and metrics sharded over Ray tasks and
results written through a `Storage` (a local folder or `s3://bucket/prefix`); `StorageResults` reads them
back for the presentation and `publish_site` uploads a site. Tasks get their model service from a picklable
factory: `ProxyHandleServiceFactory` (the proxy app's DeploymentHandle, the default), `ProxyHttpServiceFactory`
(a proxy elsewhere, `--proxy-url`) or `InProcessServiceFactory` (`--direct`, the models in the task itself).
`stored_runs` tells which runs are already complete in a Storage. With `warm_workers`, the runner's work goes to
warm workers (`WarmPool`: detached actors that outlive a command) instead of new tasks, so a command on a running
cluster does not pay for cold worker processes. Importing the package does not import Ray: the names that need it
(or the proxy, or the site) are imported on first use.
"""

import importlib
from typing import TYPE_CHECKING, Any

from cluster._completion import StoredRuns, run_path, stored_runs
from cluster._errors import ClusterError, ProxyUnavailableError, ResumeError, ShardFailedError, StorageError
from cluster._storage import RetryPolicy, S3Settings, Storage, is_transient, retry

if TYPE_CHECKING:  # imported on first use (see __getattr__): these modules import Ray, the proxy or the site
    from cluster._executor import RayRunner, ShardedRunResult
    from cluster._result_storage import PublishResult, StorageResults, publish_site
    from cluster._service import (
        DEFAULT_APP_NAME,
        InProcessServiceFactory,
        ProxyHandleService,
        ProxyHandleServiceFactory,
        ProxyHttpServiceFactory,
        ServiceFactory,
        service_for,
    )
    from cluster._sharding import Shard, ShardPlan, default_shard_size, fingerprint, plan_shards, split_by_plan
    from cluster._tasks import PLAN_FILE, SHARDS_DIR, ShardSummary, ShardTask, run_shard, shard_files
    from cluster._warm import WarmPool, code_digest, warm_pool, warm_workers_enabled

_LAZY_MODULES = {
    "cluster._executor": ("RayRunner", "ShardedRunResult"),
    "cluster._result_storage": ("PublishResult", "StorageResults", "publish_site"),
    "cluster._service": (
        "DEFAULT_APP_NAME",
        "InProcessServiceFactory",
        "ProxyHandleService",
        "ProxyHandleServiceFactory",
        "ProxyHttpServiceFactory",
        "ServiceFactory",
        "service_for",
    ),
    "cluster._sharding": ("Shard", "ShardPlan", "default_shard_size", "fingerprint", "plan_shards", "split_by_plan"),
    "cluster._tasks": ("PLAN_FILE", "SHARDS_DIR", "ShardSummary", "ShardTask", "run_shard", "shard_files"),
    "cluster._warm": ("WarmPool", "code_digest", "warm_pool", "warm_workers_enabled"),
}
_LAZY = {name: module for module, names in _LAZY_MODULES.items() for name in names}
"""Public names imported on first use: `from cluster import Storage, stored_runs` must not import Ray, so that
benchmark-run answers what needs no cluster (nothing to do, a missing bucket) in a fraction of a second."""


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
    "PER_INSTANCE_STATS_PARQUET",
    "PLAN_FILE",
    "REQUEST_STATES_FILE",
    "SHARDS_DIR",
    "ClusterError",
    "InProcessServiceFactory",
    "ProxyHandleService",
    "ProxyHandleServiceFactory",
    "ProxyHttpServiceFactory",
    "ProxyUnavailableError",
    "PublishResult",
    "RayRunner",
    "ResumeError",
    "RetryPolicy",
    "S3Settings",
    "ServiceFactory",
    "Shard",
    "ShardFailedError",
    "ShardPlan",
    "ShardSummary",
    "ShardTask",
    "ShardedRunResult",
    "Storage",
    "StorageError",
    "StorageResults",
    "StoredRuns",
    "WarmPool",
    "code_digest",
    "default_shard_size",
    "fingerprint",
    "is_transient",
    "plan_shards",
    "publish_site",
    "retry",
    "run_path",
    "run_shard",
    "service_for",
    "shard_files",
    "split_by_plan",
    "stored_runs",
    "warm_pool",
    "warm_workers_enabled",
]
