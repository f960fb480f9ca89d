"""`RayRunner`: a RunSpec's pipeline with execution and metrics sharded over Ray tasks.

A preparing task on the driver's node (cluster._preparation) loads the instances (scenario, evaluation
subset, perturbations), writes the specs and plans shards over the evaluation instances; the driver gets the
plan and object references only. Each shard is a Ray task (fractional CPUs, retried by Ray when its worker
dies) that adapts the train instances plus its slice of evaluation instances, then executes, scores and
stores its part. So the driver never holds instances, request states or results: it keeps one small summary
per shard (merged Stats and counts). At the end it concatenates the shards' parquet files by streaming,
folds the per-instance Stats in the in-process Runner's order (so the figures are bit-identical to it,
resumed or not), and writes stats.json last: a run that has it is complete.

With `warm_workers` (benchmark-run through the proxy) on a single-node cluster, the preparing and the shards run
as calls of warm workers (cluster._warm: detached actors on the driver's node that outlive the command) instead
of new tasks, with the same retries when a worker dies. On a cluster of several nodes they stay tasks, which
Ray spreads over the nodes.

With several train trials the concatenated tables are ordered by shard, then trial, then instance (the
in-process Runner orders them by trial, then instance); the Stats do not depend on it.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from bench import MercuryError, Stat, settings
from bench.metrics import MetricContext, create_metric
from bench.models import get_deployment
from bench.run_specs import RunSpec
from bench.runner import (
    ERROR_FILE,
    PER_INSTANCE_STATS_PARQUET,
    PER_INSTANCE_STATS_SCHEMA,
    REQUEST_STATES_PARQUET,
    REQUEST_STATES_SCHEMA,
    RUN_INFO_FILE,
    STATS_FILE,
    FailureCounts,
    FailurePolicy,
    ProgressFactory,
    RunResult,
    RunTimings,
    StatsAccumulator,
    completed_result,
    fold_per_instance,
    incomplete_marker,
    run_info,
    to_jsonable,
)
from bench.scenarios import create_scenario
from bench.tokenizers import get_tokenizer
from cluster._completion import run_path, stored_info
from cluster._errors import ClusterError, ShardFailedError, StorageError
from cluster._preparation import Preparation, Prepared, prepare_run_remote
from cluster._service import ServiceFactory
from cluster._sharding import Shard, ShardPlan
from cluster._storage import Storage
from cluster._tasks import (
    SHARDS_DIR,
    ShardSummary,
    ShardTask,
    ToxicityFactory,
    run_shard_remote,
    shard_files,
)
from cluster._warm import single_node, warm_pool
from serve import plugin_runtime_env

logger = logging.getLogger(__name__)


@dataclass
class ShardedRunResult(RunResult):
    """A RunResult with where the run is stored and how many shards ran or were reused."""

    output_uri: str = ""
    shards_run: int = 0
    shards_reused: int = 0


class RayRunner:
    """Runs RunSpecs with their requests and metrics sharded over Ray tasks; results go to a Storage.

    Args:
        service_factory: builds, inside each task, the ModelService requests go to (see cluster._service).
        output_path: a local folder or `s3://bucket/prefix`.
        suite: names the runs' folder `runs/<suite>/`.
        force: recompute every run: stored shards and stats are discarded first.
        shard_size: instances per shard (wins over `num_shards`); default: about two shards per task slot.
        num_shards: number of shards per run instead of a size.
        task_cpus: CPUs each task counts for (tasks at once: the cluster's CPUs over this); fractional so several
            shards share a small machine.
        reserve_cpus: whether tasks reserve `task_cpus` from Ray. Tasks that only wait on the proxy reserve
            none (False): their number is bounded by the driver instead, and a proxy replica that dies can
            always be placed again, never starved of its CPU by shards waiting for it.
        max_retries: Ray's retries of a task whose worker process died.
        batch_size: requests per call to the service; parallelism: calls in flight per task.
        max_in_flight: tasks submitted at once (default: twice the task slots when tasks reserve CPUs, so the
            next ones are queued; the slots when they do not, since all then run), bounding the object store.
        progress: factory of progress callbacks (benchmark-run passes tqdm bars), or None.
        scenario_cache: local folder for scenarios' raw data (default: the output folder, or Mercury's
            cache folder when the output is on S3).
        runtime_env: Ray runtime environment of the tasks (e.g. `{"env_vars": {"AWS_ENDPOINT_URL": ...}}`);
            credentials are best left to each node's own AWS files or variables, since a runtime
            environment is visible in the dashboard.
        storage: a ready Storage instead of `output_path`.
        toxicity_factory: picklable; builds the toxicity service in each task's process (e.g.
            `functools.partial(build_toxicity_service, base_path)`); None: toxicity metrics report nothing.
        failure_policy: how many failed requests a complete run may have (default: none). A run with more
            writes no stats.json, so it stays resumable; a shard with requests that must be retried is never
            reused, so a rerun runs only those shards (bench.runner._failures has the rule).
        plugins: plug-in modules (`--plugins`) every task imports (`bench.load_plugins`); those not installed
            are shipped to the workers in the tasks' runtime environment (`serve.plugin_runtime_env`).
        warm_workers: on a single-node cluster, prepare and run shards in the warm workers of the driver's node
            (cluster._warm: detached actors that outlive this driver, so the next command skips the workers'
            cold start) instead of new tasks. Meant for shards that wait on the proxy; on several nodes the
            shards stay tasks, which spread over the nodes.
    """

    def __init__(
        self,
        service_factory: ServiceFactory,
        output_path: str = "benchmark_output",
        suite: str = "default",
        *,
        force: bool = False,
        shard_size: int | None = None,
        num_shards: int | None = None,
        task_cpus: float = 0.5,
        reserve_cpus: bool = True,
        max_retries: int = 3,
        batch_size: int = 8,
        parallelism: int = 4,
        max_in_flight: int | None = None,
        progress: ProgressFactory | None = None,
        scenario_cache: str | Path | None = None,
        runtime_env: dict[str, Any] | None = None,
        storage: Storage | None = None,
        toxicity_factory: ToxicityFactory | None = None,
        failure_policy: FailurePolicy | None = None,
        plugins: Sequence[str] = (),
        warm_workers: bool = False,
    ) -> None:
        self.service_factory = service_factory
        self.toxicity_factory = toxicity_factory
        self.failure_policy = failure_policy or FailurePolicy()
        self.storage = storage or Storage(output_path)
        self.suite = suite
        self.force = force
        self.shard_size = shard_size
        self.num_shards = num_shards
        self.task_cpus = task_cpus
        self.reserve_cpus = reserve_cpus
        self.max_retries = max_retries
        self.batch_size = batch_size
        self.parallelism = parallelism
        self.max_in_flight = max_in_flight
        self.progress = progress
        self.scenario_cache = Path(scenario_cache) if scenario_cache else _default_scenario_cache(self.storage)
        self.plugins = tuple(plugins)
        self.runtime_env = plugin_runtime_env(self.plugins, runtime_env)
        self.warm_workers = warm_workers
        self._checked = False

    # --- the pipeline --------------------------------------------------------------------------------------

    def run_all(self, run_specs: Sequence[RunSpec], *, keep_going: bool = False) -> list[RunResult]:
        """Run every RunSpec in order (the storage is checked once, before any request is sent).

        Args:
            keep_going: a run that fails with a MercuryError other than a storage error (missing data, a
                model that cannot run) is recorded as failed, with `error.json` in its folder, and the next
                run starts. A storage error always stops everything: nothing more could be written.
        """
        results: list[RunResult] = []
        for run_spec in run_specs:
            try:
                results.append(self.run_one(run_spec))
            except StorageError:
                raise
            except MercuryError as e:
                if not keep_going:
                    raise
                logger.error("%s failed: %s", run_spec.name, e)
                run_dir = run_path(self.suite, run_spec.name)
                self.storage.write_json(f"{run_dir}/{ERROR_FILE}", {"error": str(e), "failed_at": time.time()})
                results.append(
                    ShardedRunResult(
                        run_spec,
                        [],
                        0,
                        0,
                        0,
                        self._local_dir(run_dir),
                        error=str(e),
                        output_uri=self.storage.location(run_dir),
                    )
                )
        return results

    def run_one(self, run_spec: RunSpec) -> ShardedRunResult:
        """Run one RunSpec end to end, resuming from shards already in storage unless `force`.

        Raises:
            StorageError: if the output cannot be written (finished shards stay in storage).
            ResumeError: if stored shards were made from other request states.
            ShardFailedError: if a shard task failed for another reason.
        """
        if not self._checked:
            self.storage.check_writable()
            self._checked = True
        run_dir = run_path(self.suite, run_spec.name)
        if self.force:
            self.storage.delete(f"{run_dir}/{STATS_FILE}")
            self.storage.delete_dir(f"{run_dir}/{SHARDS_DIR}")
        elif self.storage.exists(f"{run_dir}/{STATS_FILE}"):
            return self._completed(run_spec, run_dir)
        timings = RunTimings()

        started = time.perf_counter()
        prepared, train, slices = self._prepare(run_spec, run_dir)
        plan = prepared.plan
        # loading, as the user waits for it: the preparing task's start on a (maybe cold) worker included
        timings.instances = time.perf_counter() - started

        started = time.perf_counter()  # adaptation happens in the tasks: it counts as execution
        summaries, reused = self._execute(run_spec, run_dir, plan, train, slices)
        del train, slices
        timings.execution = time.perf_counter() - started

        started = time.perf_counter()
        stats = self._write_tables(run_spec, run_dir, plan, summaries)
        timings.metrics = time.perf_counter() - started

        started = time.perf_counter()
        counts = _total_counts(summaries.values())
        result = ShardedRunResult(
            run_spec=run_spec,
            stats=stats,
            num_instances=sum(s.num_instances for s in summaries.values()),
            num_requests=counts.num_requests,
            num_failed_requests=counts.num_failed,
            num_retriable_failed_requests=counts.num_retriable,
            output_dir=self._local_dir(run_dir),
            timings=timings,
            output_uri=self.storage.location(run_dir),
            shards_run=len(plan.shards) - reused,
            shards_reused=reused,
        )
        if not self.failure_policy.is_complete(counts):
            result.incomplete = self.failure_policy.incomplete_message(run_spec.name, counts)
        self._write_info_and_stats(run_dir, plan, summaries, result)
        timings.writing = time.perf_counter() - started
        return result

    # --- shards --------------------------------------------------------------------------------------------

    def _prepare(self, run_spec: RunSpec, run_dir: str) -> tuple[Prepared, ray.ObjectRef, dict[str, ray.ObjectRef]]:
        """The run's plan, a reference to its train instances and one to each shard's evaluation instances.

        A generator task on this node loads the instances and plans (see cluster._preparation): the driver
        never holds the instances. Errors of loading or resuming are raised here as themselves.
        """
        preparation = Preparation(
            run_spec=run_spec,
            scenario=create_scenario(run_spec.scenario_spec.name, run_spec.scenario_spec.args),
            run_dir=run_dir,
            storage=self.storage,
            scenario_cache=str(self.scenario_cache),
            slots=self._slots(),
            shard_size=self.shard_size,
            num_shards=self.num_shards,
            plugins=self.plugins,
        )
        refs: Any  # an ObjectRefGenerator
        if self._use_warm_workers():  # the pool's workers are on this node
            worker = warm_pool(self.runtime_env).workers()[0]
            refs = worker.prepare.options(name=f"{run_spec.name}:prepare").remote(preparation)
        else:
            here = NodeAffinitySchedulingStrategy(node_id=ray.get_runtime_context().get_node_id(), soft=False)
            options: dict[str, Any] = {
                "name": f"{run_spec.name}:prepare",
                "num_cpus": 0,
                "max_retries": self.max_retries,
                "scheduling_strategy": here,
            }
            if self.runtime_env:
                options["runtime_env"] = self.runtime_env
            refs = prepare_run_remote.options(**options).remote(preparation)
        try:
            prepared: Prepared = ray.get(next(refs))
        except ray.exceptions.RayTaskError as e:
            cause = _cause(e)
            if isinstance(cause, MercuryError):
                raise cause from None
            raise ClusterError(f"run {run_spec.name!r}: preparing its instances failed: {cause}") from None
        train = next(refs)
        slices = {shard.shard_id: next(refs) for shard in prepared.plan.shards}
        return prepared, train, slices

    def _use_warm_workers(self) -> bool:
        """Warm workers when asked for and the cluster is one node (checked per run: nodes come and go)."""
        return self.warm_workers and single_node()

    def _slots(self) -> int:
        """Tasks that fit on the cluster at once."""
        cpus = ray.cluster_resources().get("CPU", 1.0) if ray.is_initialized() else os.cpu_count() or 1
        return max(1, math.floor(cpus / self.task_cpus))

    def _reusable(self, run_dir: str, plan: ShardPlan) -> dict[str, ShardSummary]:
        """Summaries of the plan's finished shards in storage (one listing): stale summaries are ignored, and
        so are shards with requests that must be retried (they run again)."""
        folder = f"{run_dir}/{SHARDS_DIR}"
        present = set(self.storage.list(folder))
        found: dict[str, ShardSummary] = {}
        for shard in plan.shards:
            names = shard_files(shard.shard_id)
            if not all(name in present for name in names):
                continue
            summary = ShardSummary.model_validate(self.storage.read_json(f"{folder}/{names[2]}"))
            if summary.matches(shard, plan.fingerprint) and summary.failure_counts().finished:
                found[shard.shard_id] = summary
        return found

    def _execute(
        self,
        run_spec: RunSpec,
        run_dir: str,
        plan: ShardPlan,
        train: ray.ObjectRef,
        slices: dict[str, ray.ObjectRef],
    ) -> tuple[dict[str, ShardSummary], int]:
        """Summaries of every shard: reused from storage or computed by tasks; also returns how many were reused.

        Progress counts evaluation instances (perturbed copies included): the driver does not adapt, so it does
        not know how many requests there are.
        """
        summaries = self._reusable(run_dir, plan)
        reused = len(summaries)
        advance = self.progress(run_spec.name, plan.num_instances) if self.progress and plan.num_instances else None
        sizes = {shard.shard_id: shard.num_instances for shard in plan.shards}
        if advance and reused:
            advance(sum(sizes[shard_id] for shard_id in summaries))
        todo = [shard for shard in plan.shards if shard.shard_id not in summaries]
        logger.info(
            "%s: %d shards, %d already in storage, %d to run", run_spec.name, len(plan.shards), reused, len(todo)
        )
        for shard_id in summaries:  # reused: their instances are not needed
            slices.pop(shard_id, None)
        for summary in self._run_tasks(run_spec, run_dir, plan, todo, train, slices):
            summaries[summary.shard_id] = summary
            if advance:
                advance(sizes[summary.shard_id])
        return summaries, reused

    def _run_tasks(
        self,
        run_spec: RunSpec,
        run_dir: str,
        plan: ShardPlan,
        todo: list[Shard],
        train: ray.ObjectRef,
        slices: dict[str, ray.ObjectRef],
    ) -> Iterator[ShardSummary]:
        """Submit shard tasks (at most `max_in_flight` at once) and yield their summaries as they finish.

        The train instances are one object in Ray's store that every task reads; each task gets its own slice
        of evaluation instances (a reference is dropped once its task is submitted).
        """
        limit = self.max_in_flight or (2 if self.reserve_cpus else 1) * self._slots()
        pending: dict[ray.ObjectRef, str] = {}
        pool = warm_pool(self.runtime_env) if self._use_warm_workers() else None
        workers: dict[ray.ObjectRef, int] = {}  # which warm worker runs each pending shard
        queue = list(reversed(todo))
        if not queue:
            return
        try:
            while queue or pending:
                while queue and len(pending) < limit:
                    shard = queue.pop()
                    task = ShardTask(
                        run_spec=run_spec,
                        run_dir=run_dir,
                        storage=self.storage,
                        shard=shard,
                        fingerprint=plan.fingerprint,
                        service_factory=self.service_factory,
                        batch_size=self.batch_size,
                        parallelism=self.parallelism,
                        toxicity_factory=self.toxicity_factory,
                        plugins=self.plugins,
                    )
                    name = f"{run_spec.name}:shard-{shard.shard_id}"
                    if pool is not None:
                        index, worker = pool.acquire()
                        ref = worker.run_shard.options(name=name).remote(task, train, slices.pop(shard.shard_id))
                        workers[ref] = index
                    else:
                        options: dict[str, Any] = {
                            "name": name,
                            "num_cpus": self.task_cpus if self.reserve_cpus else 0,
                            "max_retries": self.max_retries,
                        }
                        if self.runtime_env:
                            options["runtime_env"] = self.runtime_env
                        ref = run_shard_remote.options(**options).remote(task, train, slices.pop(shard.shard_id))
                    pending[ref] = shard.shard_id
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    shard_id = pending.pop(ref)
                    if pool is not None:
                        pool.release(workers.pop(ref))
                    summary = self._result(run_spec, shard_id, ref)
                    logger.debug("%s: shard %s done (%d requests)", run_spec.name, shard_id, summary.num_requests)
                    yield summary
        finally:
            for ref in pending:  # a failure stops the run: cancel what has not finished
                ray.cancel(ref, force=False)
                if pool is not None:
                    pool.release(workers.pop(ref))

    def _result(self, run_spec: RunSpec, shard_id: str, ref: ray.ObjectRef) -> ShardSummary:
        """A task's summary, or the reason it failed as a cluster error."""
        try:
            summary: ShardSummary = ray.get(ref)
            return summary
        except ray.exceptions.RayTaskError as e:
            cause = _cause(e)
            if isinstance(cause, StorageError):
                raise StorageError(
                    cause.operation,
                    cause.location,
                    f"{cause.problem}; shards finished so far are kept in "
                    f"{self.storage.location(run_path(self.suite, run_spec.name))}, rerun to resume",
                ) from None
            raise ShardFailedError(run_spec.name, shard_id, f"{type(cause).__name__}: {cause}") from None
        except ray.exceptions.RayError as e:  # worker died more often than max_retries, or was cancelled
            raise ShardFailedError(run_spec.name, shard_id, f"{type(e).__name__}: {e}") from None

    # --- results -------------------------------------------------------------------------------------------

    def _write_tables(
        self, run_spec: RunSpec, run_dir: str, plan: ShardPlan, summaries: dict[str, ShardSummary]
    ) -> list[Stat]:
        """Concatenate the shards' tables (streaming) and compute the run's Stats on the way.

        The Stats are folded from per-instance Stats in the in-process Runner's order (train trial by train
        trial, instances in run order), one shard's table in memory at a time: the same additions in the same
        order as bench's Runner, so the figures are bit-identical to it (merging shard sums would differ in
        the last bits). Trial 0 is folded while the tables are concatenated; with several train trials, each
        later trial takes one more pass over the shards' tables (each shard holds all trials of its
        instances). The shards' merged Stats check the fold: every Stat's count must agree, or a shard in
        storage is stale or corrupt.
        """
        folder = f"{run_dir}/{SHARDS_DIR}"
        names = [shard_files(shard.shard_id) for shard in plan.shards]
        self.storage.concat_tables(
            f"{run_dir}/{REQUEST_STATES_PARQUET}", [f"{folder}/{n[0]}" for n in names], REQUEST_STATES_SCHEMA
        )
        per_instance_files = [f"{folder}/{n[1]}" for n in names]
        folded: list[StatsAccumulator] = []
        later_trials: set[int] = set()

        def visitor() -> Callable[[pa.Table], None]:
            accumulator = StatsAccumulator()
            folded[:] = [accumulator]
            later_trials.clear()

            def visit(table: pa.Table) -> None:
                for chunk in _chunks(table):
                    later_trials.update(fold_per_instance(chunk, accumulator, 0))

            return visit

        self.storage.concat_tables(
            f"{run_dir}/{PER_INSTANCE_STATS_PARQUET}", per_instance_files, PER_INSTANCE_STATS_SCHEMA, visitor
        )
        for trial in sorted(later_trials):
            for path in per_instance_files:
                for chunk in _chunks(self.storage.read_table(path)):
                    fold_per_instance(chunk, folded[0], trial)
        merged = StatsAccumulator()
        for shard in plan.shards:
            merged.merge(summaries[shard.shard_id].accumulator())
        _check_counts(run_spec.name, folded[0], merged)
        deployment = get_deployment(run_spec.adapter_spec.model)
        context = MetricContext(
            adapter_spec=run_spec.adapter_spec, tokenizer=get_tokenizer(deployment.tokenizer), deployment=deployment
        )
        metrics = [create_metric(spec.name, spec.args) for spec in run_spec.metric_specs]
        return folded[0].finalize(metrics, context)

    def _write_info_and_stats(
        self, run_dir: str, plan: ShardPlan, summaries: dict[str, ShardSummary], result: ShardedRunResult
    ) -> None:
        info = run_info(
            result,
            self.suite,
            num_cached_requests=sum(s.num_cached for s in summaries.values()),
            num_completion_tokens=sum(s.num_tokens for s in summaries.values()),
            num_shards=len(plan.shards),
            shards_run=result.shards_run,
            shards_reused=result.shards_reused,
        )
        self.storage.write_json(f"{run_dir}/{RUN_INFO_FILE}", info)
        if result.incomplete is not None:  # no completion marker: the run stays resumable, and says why
            self.storage.write_json(f"{run_dir}/{ERROR_FILE}", incomplete_marker(result))
            return
        # stats.json last: its presence marks the run as complete
        self.storage.write_json(f"{run_dir}/{STATS_FILE}", to_jsonable(result.stats))
        self.storage.delete(f"{run_dir}/{ERROR_FILE}")  # an earlier failure of this run is now history

    def _completed(self, run_spec: RunSpec, run_dir: str) -> ShardedRunResult:
        location = self.storage.location(run_dir)
        logger.info("%s: already complete in %s, skipped", run_spec.name, location)
        info = stored_info(self.storage, run_dir)
        stored = completed_result(run_spec, self.storage.read_json(f"{run_dir}/{STATS_FILE}"), info,
                                  self._local_dir(run_dir))  # fmt: skip
        return ShardedRunResult(**vars(stored), output_uri=location, shards_reused=info.get("num_shards", 0))

    def _local_dir(self, run_dir: str) -> Path | None:
        root = self.storage.local_path()
        return Path(root) / run_dir if root is not None else None


FOLD_CHUNK_ROWS = 64
"""Per-instance rows turned into Python values at a time when folding: a shard's table holds up to 500
instances' rows, and all their figures at once would be most of the driver's memory."""


def _chunks(table: pa.Table) -> Iterator[pa.Table]:
    """A table's rows, in order, `FOLD_CHUNK_ROWS` at a time (slices share the table's memory)."""
    for offset in range(0, table.num_rows, FOLD_CHUNK_ROWS):
        yield table.slice(offset, FOLD_CHUNK_ROWS)


def _total_counts(summaries: Iterable[ShardSummary]) -> FailureCounts:
    """The run's failure counts: the sum of its shards'."""
    counts = [summary.failure_counts() for summary in summaries]
    return FailureCounts(
        sum(c.num_requests for c in counts), sum(c.num_failed for c in counts), sum(c.num_retriable for c in counts)
    )


def _cause(error: ray.exceptions.RayTaskError) -> BaseException:
    """The exception the task raised (Ray wraps it), or the wrapper when Ray could not keep it."""
    cause = getattr(error, "cause", None)
    return cause if isinstance(cause, BaseException) else error


def _check_counts(run: str, folded: StatsAccumulator, merged: StatsAccumulator) -> None:
    """Raise if the per-instance tables and the shard summaries disagree on any Stat's count."""

    def counts(accumulator: StatsAccumulator) -> dict[tuple[Any, str], int]:
        return {(key, name): stat.count for key, stats in accumulator.slices.items() for name, stat in stats.items()}

    if counts(folded) != counts(merged):
        raise ClusterError(
            f"run {run!r}: the shards' per-instance tables disagree with their summaries; "
            "a shard in storage is stale or corrupt: rerun with --force"
        )


def _default_scenario_cache(storage: Storage) -> Path:
    local = storage.local_path()
    if local is not None:
        return Path(local)
    return settings().cache_dir
