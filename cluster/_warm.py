"""Warm workers: detached Ray actors on the driver's node that prepare runs and run shards for many commands.

Why: each `benchmark-run` is a new driver, hence a new Ray job, and a job's tasks start in new worker processes.
Every command paid, on every worker, for the process, the imports of bench, serve and ray.serve, and the proxy
handle's first call (its router asks Serve's controller for the replicas): seconds of CPU per worker, the largest
part of a small run's time on a running cluster (tests/perf/bench_cli.py). A warm worker is a detached actor
that outlives the command: the next command finds it by name and its calls start at once, with the proxy handle
already routed. It also answers the driver's questions about the proxy app (is it running, on which port, may
this key use these models), so the driver needs no `ray.serve` import when the app runs.

Which workers: their names carry a digest of what the work depends on (Mercury's source files, Ray's version,
the Python executable, the job's and the runner's runtime environments), so edited or reinstalled code, or
another environment, gets new workers; the old ones end when idle. A worker ends itself after `idle_seconds`
without calls ($MERCURY_WARM_WORKER_IDLE_SECONDS, default 900). $MERCURY_WARM_WORKERS=0 turns them off.

Liveness is the tasks': a worker that dies is restarted by Ray and its calls are sent again (`max_task_retries`);
one that cannot be restarted fails its shards with a clear error, and a rerun reuses the shards in storage.
Workers are threaded (`max_concurrency`): shards through the proxy mostly wait on it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from bench import Instance, settings
from bench.runner import Preparation, ShardSummary, ShardTask, prepare_run
from cluster._errors import ClusterError
from cluster._service import ProxyHandleServiceFactory, ServiceFactory, built_once
from cluster._tasks import ToxicityFactory, run_shard_task
from serve import ProxyError

logger = logging.getLogger(__name__)

WARM_NAMESPACE = "mercury"
ENABLED_VARIABLE = "MERCURY_WARM_WORKERS"
IDLE_VARIABLE = "MERCURY_WARM_WORKER_IDLE_SECONDS"
DEFAULT_POOL_SIZE = 2
"""Worker processes per node: two use both cores of a small machine for the tasks' own work (adapting,
scoring, writing parquet) while their threads wait on the proxy."""
THREADS_PER_WORKER = 16
"""Calls a worker runs at once (shards, preparing, checks); the runner bounds the shards in flight."""
READY_TIMEOUT_SECONDS = 120.0
"""Deadline for a worker to answer its first call (a new one imports Mercury first)."""


def warm_workers_enabled() -> bool:
    """Whether benchmark-run uses warm workers: unless $MERCURY_WARM_WORKERS is 0/false/no/off."""
    return settings().warm_workers


def idle_seconds() -> float:
    """How long a warm worker waits for calls before it ends: $MERCURY_WARM_WORKER_IDLE_SECONDS, else 900.

    Raises:
        ConfigError: naming the variable when it is not a positive number.
    """
    return settings().warm_worker_idle_seconds


def single_node() -> bool:
    """Whether the connected cluster has one alive node: warm workers live on the driver's node, so on a
    cluster of several nodes the shards go to tasks, which Ray spreads over all of them."""
    return sum(1 for node in ray.nodes() if node.get("Alive")) <= 1


class WarmWorker:
    """The actor: runs `prepare_run` and `run_shard` as the tasks would, in a process that stays warm."""

    def __init__(self, idle_seconds: float) -> None:
        import bench

        bench.load_builtins()  # once per process; the tasks' own calls then find everything registered
        self._idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._active = 0
        self._last = time.monotonic()
        threading.Thread(target=self._end_when_idle, name="warm-worker-idle", daemon=True).start()

    # --- idleness ------------------------------------------------------------------------------------------

    def _busy(self) -> _Busy:
        return _Busy(self)

    def _end_when_idle(self) -> None:
        """End this actor (for good: no restart) once it has had no call for `idle_seconds`."""
        while True:
            time.sleep(max(0.5, min(30.0, self._idle_seconds / 4)))
            with self._lock:
                idle = self._active == 0 and time.monotonic() - self._last > self._idle_seconds
            if idle:
                logger.info("warm worker idle for %.0f s: ending", self._idle_seconds)
                ray.kill(ray.get_runtime_context().current_actor, no_restart=True)
                return

    # --- calls ---------------------------------------------------------------------------------------------

    def ping(self) -> int:
        """The worker's process id (a first call waits for the worker to be ready)."""
        with self._busy():
            return os.getpid()

    def serve_state(self, app_name: str) -> tuple[str | None, str | None, int | None]:
        """The status of Serve's app `app_name` (None: no such app or no Serve) and Serve's HTTP host and port."""
        with self._busy():
            try:
                from ray import serve
                from ray.serve.context import _get_global_client

                client = _get_global_client(raise_if_no_controller_running=False)
                if client is None:
                    return None, None, None
                app = serve.status().applications.get(app_name)
                http = client.http_config
                return (str(app.status) if app is not None else None), http.host, http.port
            except Exception:  # no Serve controller (or one going away): as if none ran
                return None, None, None

    def check_access(self, factory: ProxyHandleServiceFactory, models: list[str]) -> Exception | None:
        """The proxy's refusal of the key or the models, or None; builds the service the shards will reuse."""
        with self._busy():
            try:
                service = built_once(factory)
                service.check_access(models)
                return None
            except ProxyError as error:  # made to cross handles: the driver translates it
                return error
            except Exception as error:  # e.g. ProxyUnavailableError, whose arguments do not survive pickling
                return ClusterError(str(error))

    def prepare(self, preparation: Preparation) -> Iterator[Any]:
        """`prepare_run` in this process (a generator: its objects belong to the caller)."""
        with self._busy():
            yield from prepare_run(preparation)

    def run_shard(
        self,
        task: ShardTask,
        train: list[Instance],
        evaluation: list[Instance],
        service_factory: ServiceFactory,
        toxicity_factory: ToxicityFactory | None,
    ) -> ShardSummary:
        """`run_shard_task` in this process."""
        with self._busy():
            return run_shard_task(task, train, evaluation, service_factory, toxicity_factory)


class _Busy:
    """Counts a call as active while it runs, and its end as the worker's last activity."""

    def __init__(self, worker: WarmWorker) -> None:
        self.worker = worker

    def __enter__(self) -> None:
        with self.worker._lock:
            self.worker._active += 1
            self.worker._last = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        with self.worker._lock:
            self.worker._active -= 1
            self.worker._last = time.monotonic()


_remote_worker: Any = ray.remote(WarmWorker)


def code_digest(runtime_env: dict[str, Any] | None = None) -> str:
    """What a warm worker's behaviour depends on besides its calls' arguments, as a short digest: the source
    files of bench, serve and cluster (path, size, modification time), Ray's version, the Python executable,
    the job's runtime environment and `runtime_env`."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]
    for package in ("bench", "serve", "cluster"):
        for path in sorted((root / package).rglob("*.py")):
            info = path.stat()
            digest.update(f"{path}:{info.st_size}:{info.st_mtime_ns}\n".encode())
    job_env: Any = {}
    if ray.is_initialized():
        try:
            job_env = dict(ray.get_runtime_context().runtime_env or {})
        except Exception:  # a Ray without it: the rest still tells versions apart
            job_env = {}
    digest.update(json.dumps([ray.__version__, sys.executable, job_env, runtime_env or {}], sort_keys=True,
                             default=str).encode())  # fmt: skip
    return digest.hexdigest()[:16]


@dataclass
class WarmPool:
    """The warm workers of this driver's node for this code and environment: found by name, made if missing.

    Args:
        size: workers on the node.
        idle_seconds: how long a worker waits for calls before it ends (default: `idle_seconds()`).
        runtime_env: Ray runtime environment of the workers (part of their names).
    """

    size: int = DEFAULT_POOL_SIZE
    idle_seconds: float | None = None
    runtime_env: dict[str, Any] | None = None
    _workers: list[Any] = field(default_factory=list, repr=False)
    _load: list[int] = field(default_factory=list, repr=False)

    def workers(self) -> list[Any]:
        """The pool's actor handles, each ready (answered a ping); made on first use.

        Raises:
            ray.exceptions.RayError: when a worker cannot be started or does not answer in time.
        """
        if self._workers:
            return self._workers
        node = ray.get_runtime_context().get_node_id()
        prefix = f"mercury-worker-{code_digest(self.runtime_env)}-{node[:12]}"
        handles = [self._get_or_create(f"{prefix}-{index}", node) for index in range(self.size)]
        pings = [handle.ping.remote() for handle in handles]
        try:
            ray.get(pings, timeout=READY_TIMEOUT_SECONDS)
        except ray.exceptions.RayActorError:  # one ended (idle) just as it was found: make it again, once
            handles = [self._get_or_create(f"{prefix}-{index}", node) for index in range(self.size)]
            ray.get([handle.ping.remote() for handle in handles], timeout=READY_TIMEOUT_SECONDS)
        self._workers = handles
        self._load = [0] * len(handles)
        return handles

    def _get_or_create(self, name: str, node: str) -> Any:
        options: dict[str, Any] = {
            "name": name,
            "namespace": WARM_NAMESPACE,
            "lifetime": "detached",
            "get_if_exists": True,
            "num_cpus": 0,  # as the tasks through the proxy: they wait on it, and never starve its replicas
            "max_concurrency": THREADS_PER_WORKER,
            "max_restarts": 3,
            "max_task_retries": 3,
            "scheduling_strategy": NodeAffinitySchedulingStrategy(node_id=node, soft=False),
        }
        if self.runtime_env:
            options["runtime_env"] = self.runtime_env
        return _remote_worker.options(**options).remote(self.idle_seconds or idle_seconds())

    def least_loaded(self) -> int:
        """Index of the worker with the fewest calls handed out by `acquire` and not yet `release`d."""
        self.workers()
        return min(range(len(self._load)), key=self._load.__getitem__)

    def acquire(self) -> tuple[int, Any]:
        """A worker for one more shard (the least loaded), counted until `release`."""
        index = self.least_loaded()
        self._load[index] += 1
        return index, self._workers[index]

    def release(self, index: int) -> None:
        """One shard of worker `index` finished."""
        self._load[index] -= 1

    def serve_state(self, app_name: str) -> tuple[str | None, str | None, int | None]:
        """Serve's status of `app_name` (None if absent) and Serve's HTTP host and port, asked of a worker."""
        state: tuple[str | None, str | None, int | None] = ray.get(
            self.workers()[0].serve_state.remote(app_name), timeout=READY_TIMEOUT_SECONDS
        )
        return state

    def check_access(self, factory: ProxyHandleServiceFactory, models: Sequence[str]) -> None:
        """Raise the proxy's refusal of `factory`'s key or of `models` (its service stays built in the worker)."""
        error = ray.get(self.workers()[0].check_access.remote(factory, list(models)))
        if error is not None:
            raise error


_pools: dict[str, WarmPool] = {}


def warm_pool(runtime_env: dict[str, Any] | None = None) -> WarmPool:
    """This process's pool for `runtime_env` (one per driver: the checks and the runner share its workers)."""
    key = json.dumps(runtime_env or {}, sort_keys=True, default=str)
    if key not in _pools:
        _pools[key] = WarmPool(runtime_env=runtime_env)
    return _pools[key]
