"""The `Runner`: RunSpecs in, their results in a `Storage` (a local folder or `s3://bucket/prefix`). One pipeline:

scenario -> instances -> evaluation subset -> perturbations -> shards (adapt -> execute -> score -> store)
-> the shards' tables concatenated and their Stats folded -> run_info.json, stats.json last.

What executes the preparing and the shards is its `Execution` (bench.runner._execution): this process, or Ray
tasks and warm workers (`cluster.RayExecution`); nothing else differs, so a RunSpec gives the same files and the
same figures to the last bit whoever runs it, resumed or not. The runner never holds instances, request states or
results: it keeps one small summary per shard (merged Stats and counts). A shard already in storage is not run
again, so an interrupted run resumes where it stopped; stats.json is written last: a run that has it is complete.

With several train trials the concatenated tables are ordered by shard, then trial, then instance; the Stats do not
depend on it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from bench._errors import MercuryError, RunError, StorageError
from bench._stat import Stat
from bench.metrics import ToxicityService
from bench.models import ModelService
from bench.run_specs import RunSpec
from bench.runner._completion import stored_info
from bench.runner._evaluation import StatsAccumulator
from bench.runner._execution import Execution, InProcessExecution, PreparedRun
from bench.runner._failures import FailureCounts, FailurePolicy
from bench.runner._helm_json import export_helm_json
from bench.runner._output import (
    ERROR_FILE,
    PER_INSTANCE_STATS_PARQUET,
    REQUEST_STATES_PARQUET,
    RUN_INFO_FILE,
    STATS_FILE,
    run_path,
    to_jsonable,
)
from bench.runner._preparation import Preparation
from bench.runner._records import PER_INSTANCE_STATS_SCHEMA, REQUEST_STATES_SCHEMA, fold_per_instance
from bench.runner._result import RunResult, RunTimings, completed_result, incomplete_marker, run_info
from bench.runner._sharding import Shard
from bench.runner._shards import SHARDS_DIR, ShardSummary, ShardTask, shard_files
from bench.runner._steps import ProgressFactory, create_metrics, metric_context, scenario_cache_root
from bench.runner._storage import Storage
from bench.scenarios import create_scenario

logger = logging.getLogger(__name__)


class Runner:
    """Runs RunSpecs through their `execution`; results go to a Storage.

    Args:
        execution: where the preparing and the shards run (`InProcessExecution`, `cluster.RayExecution`).
        output: a local folder, `s3://bucket/prefix`, or a ready Storage.
        suite: names the runs' folder `runs/<suite>/`.
        force: recompute every run: stored shards and stats are discarded first. Without it a complete run is
            read back, and an incomplete one resumes from its stored shards.
        shard_size: instances per shard (wins over `num_shards`); default: about two shards per slot of the
            execution, between 25 and 500 (bench.runner._sharding).
        num_shards: number of shards per run instead of a size.
        batch_size: requests per call to the model service; parallelism: calls in flight per shard.
        progress: factory of progress callbacks (benchmark-run passes tqdm bars), advanced by instances.
        scenario_cache: local folder whose `scenarios/` holds the scenarios' raw data (default: the output
            folder, or Mercury's cache folder when the output is on S3).
        failure_policy: how many failed requests a complete run may have (default: none). A run with more
            writes no stats.json, so it stays resumable; a shard with requests that must be retried is never
            reused, and a rerun sends only those requests again (bench.runner._failures has the rule).
        plugins: plug-in modules (`--plugins`) wherever the work runs imports (`bench.load_plugins`).
        helm_json: also write HELM's scenario_state.json and per_instance_stats.json (bench.runner._helm_json).
    """

    def __init__(
        self,
        execution: Execution,
        output: str | Path | Storage = "benchmark_output",
        suite: str = "default",
        *,
        force: bool = False,
        shard_size: int | None = None,
        num_shards: int | None = None,
        batch_size: int = 8,
        parallelism: int = 4,
        progress: ProgressFactory | None = None,
        scenario_cache: str | Path | None = None,
        failure_policy: FailurePolicy | None = None,
        plugins: Sequence[str] = (),
        helm_json: bool = False,
    ) -> None:
        self.execution = execution
        self.storage = output if isinstance(output, Storage) else Storage(str(output))
        self.suite = suite
        self.force = force
        self.shard_size = shard_size
        self.num_shards = num_shards
        self.batch_size = batch_size
        self.parallelism = parallelism
        self.progress = progress
        self.scenario_cache = Path(scenario_cache) if scenario_cache else scenario_cache_root(self.storage)
        self.failure_policy = failure_policy or FailurePolicy()
        self.plugins = tuple(plugins)
        self.helm_json = helm_json
        self._checked = False

    @classmethod
    def in_process(
        cls,
        service: ModelService,
        output: str | Path | Storage = "benchmark_output",
        suite: str = "default",
        *,
        toxicity: ToxicityService | None = None,
        **options: Any,
    ) -> Runner:
        """A runner whose work all runs in this process against `service` (`InProcessExecution`)."""
        return cls(InProcessExecution(service, toxicity), output, suite, **options)

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
                results.append(self._failed(run_spec, str(e)))
        return results

    def run_one(self, run_spec: RunSpec) -> RunResult:
        """Run one RunSpec end to end, resuming from shards already in storage unless `force`.

        Raises:
            StorageError: if the output cannot be written (finished shards stay in storage).
            ResumeError: if stored shards were made from other request states.
            ShardFailedError: if a shard failed for another reason.
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
        prepared = self.execution.prepare(self._preparation(run_spec, run_dir))
        # loading, as the user waits for it: on Ray the preparing task's start on a (maybe cold) worker included
        timings.instances = time.perf_counter() - started

        started = time.perf_counter()  # adaptation happens in the shards: it counts as execution
        summaries, reused = self._execute(run_spec, run_dir, prepared)
        timings.execution = time.perf_counter() - started

        started = time.perf_counter()
        stats = self._write_tables(run_spec, run_dir, prepared, summaries)
        timings.metrics = time.perf_counter() - started

        started = time.perf_counter()
        counts = _total_counts(summaries.values())
        result = RunResult(
            run_spec=run_spec,
            stats=stats,
            num_instances=sum(s.num_instances for s in summaries.values()),
            num_requests=counts.num_requests,
            num_failed_requests=counts.num_failed,
            num_retriable_failed_requests=counts.num_retriable,
            output_dir=self._local_dir(run_dir),
            timings=timings,
            output_uri=self.storage.location(run_dir),
            shards_run=len(prepared.plan.shards) - reused,
            shards_reused=reused,
        )
        if not self.failure_policy.is_complete(counts):
            result.incomplete = self.failure_policy.incomplete_message(run_spec.name, counts)
        if self.helm_json:
            export_helm_json(self.storage, run_dir, run_spec)
        self._write_info_and_stats(run_dir, len(prepared.plan.shards), summaries, result)
        timings.writing = time.perf_counter() - started
        return result

    def _preparation(self, run_spec: RunSpec, run_dir: str) -> Preparation:
        return Preparation(
            run_spec=run_spec,
            scenario=create_scenario(run_spec.scenario_spec.name, run_spec.scenario_spec.args),
            run_dir=run_dir,
            storage=self.storage,
            scenario_cache=str(self.scenario_cache),
            slots=self.execution.slots(),
            shard_size=self.shard_size,
            num_shards=self.num_shards,
            plugins=self.plugins,
        )

    def _failed(self, run_spec: RunSpec, error: str) -> RunResult:
        """Record a failed run; `error.json` tells benchmark-present it failed (a finished run has stats.json)."""
        run_dir = run_path(self.suite, run_spec.name)
        self.storage.write_json(f"{run_dir}/{ERROR_FILE}", {"error": error, "failed_at": time.time()})
        return RunResult(
            run_spec, [], 0, 0, 0, self._local_dir(run_dir), error=error, output_uri=self.storage.location(run_dir)
        )

    # --- shards --------------------------------------------------------------------------------------------

    def _reusable(self, run_dir: str, prepared: PreparedRun) -> dict[str, ShardSummary]:
        """Summaries of the plan's finished shards in storage (one listing): stale summaries are ignored, and
        so are shards with requests that must be retried (they run again)."""
        folder = f"{run_dir}/{SHARDS_DIR}"
        present = set(self.storage.list(folder))
        found: dict[str, ShardSummary] = {}
        for shard in prepared.plan.shards:
            names = shard_files(shard.shard_id)
            if not all(name in present for name in names):
                continue
            summary = ShardSummary.model_validate(self.storage.read_json(f"{folder}/{names[2]}"))
            if summary.matches(shard, prepared.plan.fingerprint) and summary.failure_counts().finished:
                found[shard.shard_id] = summary
        return found

    def _execute(self, run_spec: RunSpec, run_dir: str, prepared: PreparedRun) -> tuple[dict[str, ShardSummary], int]:
        """Summaries of every shard: reused from storage or run by the execution; also returns how many were reused.

        Progress counts evaluation instances (perturbed copies included): the runner does not adapt, so it does
        not know how many requests there are.
        """
        plan = prepared.plan
        summaries = self._reusable(run_dir, prepared)
        reused = len(summaries)
        advance = self.progress(run_spec.name, plan.num_instances) if self.progress and plan.num_instances else None
        sizes = {shard.shard_id: shard.num_instances for shard in plan.shards}
        if advance and reused:
            advance(sum(sizes[shard_id] for shard_id in summaries))
        for shard_id in summaries:  # reused: their instances are not needed
            prepared.slices.pop(shard_id, None)
        todo = [self._task(run_spec, run_dir, plan.fingerprint, shard) for shard in plan.shards
                if shard.shard_id not in summaries]  # fmt: skip
        logger.info("%s: %d shards, %d already in storage, %d to run", run_spec.name, len(plan.shards), reused,
                    len(todo))  # fmt: skip
        for summary in self.execution.run_shards(todo, prepared):
            summaries[summary.shard_id] = summary
            logger.debug("%s: shard %s done (%d requests)", run_spec.name, summary.shard_id, summary.num_requests)
            if advance:
                advance(sizes[summary.shard_id])
        return summaries, reused

    def _task(self, run_spec: RunSpec, run_dir: str, fingerprint: str, shard: Shard) -> ShardTask:
        return ShardTask(
            run_spec=run_spec,
            run_dir=run_dir,
            storage=self.storage,
            shard=shard,
            fingerprint=fingerprint,
            batch_size=self.batch_size,
            parallelism=self.parallelism,
            plugins=self.plugins,
        )

    # --- results -------------------------------------------------------------------------------------------

    def _write_tables(
        self, run_spec: RunSpec, run_dir: str, prepared: PreparedRun, summaries: dict[str, ShardSummary]
    ) -> list[Stat]:
        """Concatenate the shards' tables (streaming) and compute the run's Stats on the way.

        The Stats are folded from per-instance Stats train trial by train trial, instances in run order, one
        shard's table in memory at a time: the same additions in the same order however the run was cut into
        shards, so the figures are the same to the last bit (merging shard sums would differ in the last bits).
        Trial 0 is folded while the tables are concatenated; with several train trials, each later trial takes
        one more pass over the shards' tables (each shard holds all trials of its instances). The shards' merged
        Stats check the fold: every Stat's count must agree, or a shard in storage is stale or corrupt.
        """
        folder = f"{run_dir}/{SHARDS_DIR}"
        names = [shard_files(shard.shard_id) for shard in prepared.plan.shards]
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
        for shard in prepared.plan.shards:
            merged.merge(summaries[shard.shard_id].accumulator())
        _check_counts(run_spec.name, folded[0], merged)
        return folded[0].finalize(create_metrics(run_spec.metric_specs), metric_context(run_spec))

    def _write_info_and_stats(
        self, run_dir: str, num_shards: int, summaries: dict[str, ShardSummary], result: RunResult
    ) -> None:
        info = run_info(
            result,
            self.suite,
            num_cached_requests=sum(s.num_cached for s in summaries.values()),
            num_completion_tokens=sum(s.num_tokens for s in summaries.values()),
            num_shards=num_shards,
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

    def _completed(self, run_spec: RunSpec, run_dir: str) -> RunResult:
        location = self.storage.location(run_dir)
        logger.info("%s: already complete in %s, skipped", run_spec.name, location)
        stats = self.storage.read_json(f"{run_dir}/{STATS_FILE}")
        return completed_result(run_spec, stats, stored_info(self.storage, run_dir), self._local_dir(run_dir), location)

    def _local_dir(self, run_dir: str) -> Path | None:
        root = self.storage.local_path()
        return Path(root) / run_dir if root is not None else None


FOLD_CHUNK_ROWS = 64
"""Per-instance rows turned into Python values at a time when folding: a shard's table holds up to 500
instances' rows, and all their figures at once would be most of the runner's memory."""


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


def _check_counts(run: str, folded: StatsAccumulator, merged: StatsAccumulator) -> None:
    """Raise if the per-instance tables and the shard summaries disagree on any Stat's count."""

    def counts(accumulator: StatsAccumulator) -> dict[tuple[Any, str], int]:
        return {(key, name): stat.count for key, stats in accumulator.slices.items() for name, stat in stats.items()}

    if counts(folded) != counts(merged):
        raise RunError(
            f"run {run!r}: the shards' per-instance tables disagree with their summaries; "
            "a shard in storage is stale or corrupt: rerun with --force"
        )
