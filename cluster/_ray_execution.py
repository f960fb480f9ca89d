"""`RayExecution`: the pipeline's work (bench.runner) as Ray tasks, or as calls of warm workers.

The preparing runs as a generator task on the driver's node (bench.runner._preparation): the driver gets the
plan and object references only. Each shard is a Ray task (fractional CPUs, retried by Ray when its worker dies)
that adapts the train instances plus its slice, then executes, scores and stores its part (bench.runner._shards).
So the driver never holds instances, request states or results.

With `warm_workers` (benchmark-run through the proxy) on a single-node cluster, the preparing and the shards run
as calls of warm workers (cluster._warm: detached actors on the driver's node that outlive the command) instead
of new tasks, with the same retries when a worker dies. On a cluster of several nodes they stay tasks, which
Ray spreads over the nodes.

A run on Ray is bench's `Runner` with this execution: `Runner(RayExecution(factory), "s3://bucket/results")`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from bench import MercuryError, ShardFailedError, StorageError
from bench.runner import Preparation, Prepared, PreparedRun, ShardSummary, ShardTask
from cluster._errors import ClusterError
from cluster._service import ServiceFactory
from cluster._tasks import ToxicityFactory, prepare_run_remote, run_shard_remote
from cluster._warm import single_node, warm_pool
from serve import plugin_runtime_env

logger = logging.getLogger(__name__)


class RayExecution:
    """Runs a run's preparing and shards on Ray (see the module docstring).

    Args:
        service_factory: builds, in each worker process, the ModelService requests go to (see cluster._service).
        toxicity_factory: picklable; builds the toxicity service in each worker's process (e.g.
            `functools.partial(build_toxicity_service, base_path)`); None: toxicity metrics report nothing.
        task_cpus: CPUs each task counts for (tasks at once: the cluster's CPUs over this); fractional so several
            shards share a small machine.
        reserve_cpus: whether tasks reserve `task_cpus` from Ray. Tasks that only wait on the proxy reserve
            none (False): their number is bounded by the driver instead, and a proxy replica that dies can
            always be placed again, never starved of its CPU by shards waiting for it.
        max_retries: Ray's retries of a task whose worker process died.
        max_in_flight: tasks submitted at once (default: twice the task slots when tasks reserve CPUs, so the
            next ones are queued; the slots when they do not, since all then run), bounding the object store.
        runtime_env: Ray runtime environment of the tasks (e.g. `{"env_vars": {"AWS_ENDPOINT_URL": ...}}`);
            credentials are best left to each node's own AWS files or variables, since a runtime
            environment is visible in the dashboard.
        plugins: plug-in modules (`--plugins`): those not installed are shipped to the workers in the tasks'
            runtime environment (`serve.plugin_runtime_env`); the tasks import them (bench.runner.ShardTask).
        warm_workers: on a single-node cluster, prepare and run shards in the warm workers of the driver's node
            (cluster._warm: detached actors that outlive this driver, so the next command skips the workers'
            cold start) instead of new tasks. Meant for shards that wait on the proxy; on several nodes the
            shards stay tasks, which spread over the nodes.
    """

    def __init__(
        self,
        service_factory: ServiceFactory,
        *,
        toxicity_factory: ToxicityFactory | None = None,
        task_cpus: float = 0.5,
        reserve_cpus: bool = True,
        max_retries: int = 3,
        max_in_flight: int | None = None,
        runtime_env: dict[str, Any] | None = None,
        plugins: Sequence[str] = (),
        warm_workers: bool = False,
    ) -> None:
        self.service_factory = service_factory
        self.toxicity_factory = toxicity_factory
        self.task_cpus = task_cpus
        self.reserve_cpus = reserve_cpus
        self.max_retries = max_retries
        self.max_in_flight = max_in_flight
        self.runtime_env = plugin_runtime_env(tuple(plugins), runtime_env)
        self.warm_workers = warm_workers

    def slots(self) -> int:
        """Tasks that fit on the cluster at once."""
        cpus = ray.cluster_resources().get("CPU", 1.0)
        return max(1, math.floor(cpus / self.task_cpus))

    def _use_warm_workers(self) -> bool:
        """Warm workers when asked for and the cluster is one node (checked per run: nodes come and go)."""
        return self.warm_workers and single_node()

    def prepare(self, preparation: Preparation) -> PreparedRun:
        """A generator task on this node (or a warm worker's call) prepares the run: the driver holds the plan and
        references. Errors of loading or resuming are raised here as themselves."""
        name = f"{preparation.run_spec.name}:prepare"
        refs: Any  # an ObjectRefGenerator
        if self._use_warm_workers():  # the pool's workers are on this node
            worker = warm_pool(self.runtime_env).workers()[0]
            refs = worker.prepare.options(name=name).remote(preparation)
        else:
            here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)
            options: dict[str, Any] = {"name": name, "num_cpus": 0, "max_retries": self.max_retries,
                                       "scheduling_strategy": here}  # fmt: skip
            if self.runtime_env:
                options["runtime_env"] = self.runtime_env
            refs = prepare_run_remote.options(**options).remote(preparation)
        try:
            prepared: Prepared = ray.get(next(refs))
        except ray.exceptions.RayTaskError as e:
            cause = _cause(e)
            if isinstance(cause, MercuryError):
                raise cause from None
            raise ClusterError(f"run {preparation.run_spec.name!r}: preparing its instances failed: {cause}") from None
        train = next(refs)
        slices = {shard.shard_id: next(refs) for shard in prepared.plan.shards}
        return PreparedRun(prepared.plan, prepared.instances_seconds, train, slices)

    def run_shards(self, tasks: Sequence[ShardTask], prepared: PreparedRun) -> Iterator[ShardSummary]:
        """Submit shard tasks (at most `max_in_flight` at once) and yield their summaries as they finish.

        The train instances are one object in Ray's store that every task reads; each task gets its own slice
        of evaluation instances (a reference is dropped once its task is submitted).
        """
        limit = self.max_in_flight or (2 if self.reserve_cpus else 1) * self.slots()
        pending: dict[ray.ObjectRef, ShardTask] = {}
        pool = warm_pool(self.runtime_env) if self._use_warm_workers() else None
        workers: dict[ray.ObjectRef, int] = {}  # which warm worker runs each pending shard
        queue = list(reversed(tasks))
        try:
            while queue or pending:
                while queue and len(pending) < limit:
                    task = queue.pop()
                    name = f"{task.run_spec.name}:shard-{task.shard.shard_id}"
                    evaluation = prepared.slices.pop(task.shard.shard_id)
                    if pool is not None:
                        index, worker = pool.acquire()
                        ref = worker.run_shard.options(name=name).remote(
                            task, prepared.train, evaluation, self.service_factory, self.toxicity_factory
                        )
                        workers[ref] = index
                    else:
                        options: dict[str, Any] = {"name": name, "max_retries": self.max_retries,
                                                   "num_cpus": self.task_cpus if self.reserve_cpus else 0}  # fmt: skip
                        if self.runtime_env:
                            options["runtime_env"] = self.runtime_env
                        ref = run_shard_remote.options(**options).remote(
                            task, prepared.train, evaluation, self.service_factory, self.toxicity_factory
                        )
                    pending[ref] = task
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    task = pending.pop(ref)
                    if pool is not None:
                        pool.release(workers.pop(ref))
                    yield _result(task, ref)
        finally:
            for ref in pending:  # a failure stops the run: cancel what has not finished
                ray.cancel(ref, force=False)
                if pool is not None:
                    pool.release(workers.pop(ref))


def _result(task: ShardTask, ref: ray.ObjectRef) -> ShardSummary:
    """A task's summary, or the reason it failed as a run error."""
    run, shard_id = task.run_spec.name, task.shard.shard_id
    try:
        summary: ShardSummary = ray.get(ref)
        return summary
    except ray.exceptions.RayTaskError as e:
        cause = _cause(e)
        if isinstance(cause, StorageError):
            raise StorageError(
                cause.operation,
                cause.location,
                f"{cause.problem}; shards finished so far are kept in {task.storage.location(task.run_dir)}, "
                "rerun to resume",
            ) from None
        raise ShardFailedError(run, shard_id, f"{type(cause).__name__}: {cause}") from None
    except ray.exceptions.RayError as e:  # worker died more often than max_retries, or was cancelled
        raise ShardFailedError(run, shard_id, f"{type(e).__name__}: {e}") from None


def _cause(error: ray.exceptions.RayTaskError) -> BaseException:
    """The exception the task raised (Ray wraps it), or the wrapper when Ray could not keep it."""
    cause = getattr(error, "cause", None)
    return cause if isinstance(cause, BaseException) else error
