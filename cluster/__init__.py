"""Ray execution: storage (local folder or S3), sharding, shard tasks and the sharded runner.

`RayRunner` runs RunSpecs like bench's `Runner`, with execution and metrics sharded over Ray tasks and
results written through a `Storage` (a local folder or `s3://bucket/prefix`); `StorageResults` reads them
back for the presentation and `publish_site` uploads a site. Tasks get their model service from a picklable
factory: `ProxyHandleServiceFactory` (the proxy app's DeploymentHandle, the default), `ProxyHttpServiceFactory`
(a proxy elsewhere, `--proxy-url`) or `InProcessServiceFactory` (`--direct`, the models in the task itself).
With `warm_workers`, the runner's work goes to warm workers (`WarmPool`: detached actors that outlive a command)
instead of new tasks, so a command on a running cluster does not pay for cold worker processes.
"""

from cluster._errors import ClusterError, ProxyUnavailableError, ResumeError, ShardFailedError, StorageError
from cluster._executor import (
    RayRunner,
    ShardedRunResult,
    run_path,
)
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
from cluster._storage import RetryPolicy, S3Settings, Storage, is_transient, retry
from cluster._tasks import PLAN_FILE, SHARDS_DIR, ShardSummary, ShardTask, run_shard, shard_files
from cluster._warm import WarmPool, code_digest, warm_pool, warm_workers_enabled

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
    "warm_pool",
    "warm_workers_enabled",
]
