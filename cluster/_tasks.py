"""One shard's work, as a Ray task: adapt its instances, execute its requests, score them, write its files.

The task gets the run's train instances (one object in Ray's store, shared by every task of the run) and its
slice of evaluation instances, and adapts them itself, so request states (prompts with their in-context
examples) exist only inside tasks, never all at once on the driver.

The task is idempotent: it writes the shard's two parquet files, then its summary (`<id>.json`) last, so a
shard is in storage exactly when its summary is, and a retried task (after its worker was killed) rewrites
the same files. It returns the summary, a few kilobytes of merged Stats and counts, never the results.
"""

from __future__ import annotations

import logging
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass

import ray
from pydantic import BaseModel, ConfigDict

import bench
from bench import Instance, PerturbationDescription, Stat
from bench.adaptation import RequestState
from bench.metrics import ToxicityService
from bench.run_specs import RunSpec
from bench.runner import (
    Executor,
    FailureCounts,
    StatsAccumulator,
    adapt,
    create_metrics,
    metric_context,
    per_instance_table,
    request_states_table,
    score_instances,
)
from cluster._counters import record_counters
from cluster._service import ServiceFactory, service_for
from cluster._sharding import Shard
from cluster._storage import Storage

logger = logging.getLogger(__name__)

SHARDS_DIR = "shards"
PLAN_FILE = "plan.json"


def shard_files(shard_id: str) -> tuple[str, str, str]:
    """Names (in the shards folder) of a shard's request states, per-instance Stats and summary."""
    return (
        f"{shard_id}.request_states.parquet",
        f"{shard_id}.per_instance_stats.parquet",
        f"{shard_id}.json",
    )


class SliceStats(BaseModel):
    """The merged Stats of one slice (split, sub-split, perturbation) of a shard."""

    model_config = ConfigDict(extra="forbid")

    split: str
    sub_split: str | None = None
    perturbation: PerturbationDescription | None = None
    stats: list[Stat]


class ShardSummary(BaseModel):
    """What a finished shard reports and stores as `<id>.json`: merged Stats and counts, mergeable."""

    model_config = ConfigDict(extra="forbid")

    shard_id: str
    start: int
    end: int
    fingerprint: str
    num_instances: int
    num_requests: int
    num_failed_requests: int
    num_retriable_failed_requests: int = 0
    """Failed requests a rerun must send again: a shard with any is not finished (bench.runner.FailureCounts)."""
    num_cached: int
    num_tokens: int
    slices: list[SliceStats]

    def accumulator(self) -> StatsAccumulator:
        """The shard's Stats as an accumulator the driver merges."""
        accumulator = StatsAccumulator()
        for piece in self.slices:
            key = (piece.split, piece.sub_split, piece.perturbation)
            accumulator.slices[key] = {stat.name.name: stat for stat in piece.stats}
        return accumulator

    def failure_counts(self) -> FailureCounts:
        """The shard's requests, failed requests and retriable failed requests."""
        return FailureCounts(self.num_requests, self.num_failed_requests, self.num_retriable_failed_requests)

    def matches(self, shard: Shard, fingerprint: str) -> bool:
        """Whether this stored summary is the result of `shard` of the run with `fingerprint`."""
        return (self.shard_id, self.start, self.end, self.fingerprint) == (
            shard.shard_id,
            shard.start,
            shard.end,
            fingerprint,
        )


@dataclass(frozen=True)
class ShardTask:
    """Everything a task needs besides its instances; small and picklable."""

    run_spec: RunSpec
    run_dir: str
    storage: Storage
    shard: Shard
    fingerprint: str
    service_factory: ServiceFactory
    batch_size: int = 8
    parallelism: int = 4
    toxicity_factory: ToxicityFactory | None = None
    """Builds the toxicity service for toxicity metrics in the task's process (None: they report nothing)."""
    plugins: tuple[str, ...] = ()
    """Plug-in modules the driver loaded (`--plugins`): imported here too, so their metrics are known."""


ToxicityFactory = Callable[[], ToxicityService | None]

_toxicity_services: dict[bytes, ToxicityService | None] = {}
_toxicity_lock = threading.Lock()


def _toxicity_for(factory: ToxicityFactory | None) -> ToxicityService | None:
    """The toxicity service `factory` builds, once per worker process (it holds an HTTP connection)."""
    if factory is None:
        return None
    key = pickle.dumps(factory)
    with _toxicity_lock:
        if key not in _toxicity_services:
            _toxicity_services[key] = factory()
        return _toxicity_services[key]


def run_shard(task: ShardTask, train: list[Instance], evaluation: list[Instance]) -> ShardSummary:
    """Adapt, execute, score and store one shard; returns its summary (also stored, last).

    Args:
        train: all the run's train instances, where in-context examples are drawn from.
        evaluation: the shard's evaluation instances (whole instances: with their perturbed copies).

    Raises:
        StorageError: if the shard's files cannot be written after retries.
    """
    bench.load_plugins(task.plugins)  # a fresh worker process has empty registries
    request_states = adapt(task.run_spec, [*train, *evaluation])
    service = service_for(task.service_factory)
    executed = Executor(service, parallelism=task.parallelism, batch_size=task.batch_size).execute(request_states)

    run_spec = task.run_spec
    context = metric_context(run_spec, _toxicity_for(task.toxicity_factory))
    metrics = create_metrics(run_spec.metric_specs)
    per_instance = score_instances(metrics, executed, context)
    accumulator = StatsAccumulator().add(per_instance)

    # as the in-process Runner counts: instances and perturbed copies, not train trials (a shard holds all of
    # an instance's request states, so the shards' counts add up to the run's)
    num_instances = len({(s.instance.id, s.instance.perturbation) for s in executed})
    summary = _summary(task, executed, num_instances, accumulator)
    states_file, per_instance_file, summary_file = shard_files(task.shard.shard_id)
    folder = f"{task.run_dir}/{SHARDS_DIR}"
    task.storage.write_table(f"{folder}/{states_file}", request_states_table(executed))
    task.storage.write_table(f"{folder}/{per_instance_file}", per_instance_table(per_instance))
    task.storage.write_json(f"{folder}/{summary_file}", summary.model_dump(mode="json"))
    _record_counters(run_spec.name, summary)
    return summary


run_shard_remote = ray.remote(run_shard)
"""`run_shard` as a Ray task; the executor sets its name, CPUs and retries per call with `.options`."""


def _summary(
    task: ShardTask, executed: list[RequestState], num_instances: int, accumulator: StatsAccumulator
) -> ShardSummary:
    results = [s.result for s in executed if s.result is not None]
    counts = FailureCounts.of(s.result for s in executed)
    return ShardSummary(
        shard_id=task.shard.shard_id,
        start=task.shard.start,
        end=task.shard.end,
        fingerprint=task.fingerprint,
        num_instances=num_instances,
        num_requests=len(executed),
        num_failed_requests=counts.num_failed,
        num_retriable_failed_requests=counts.num_retriable,
        num_cached=sum(1 for r in results if r.cached),
        num_tokens=sum(len(c.tokens) for r in results for c in r.completions),
        slices=[
            SliceStats(split=split, sub_split=sub_split, perturbation=perturbation, stats=list(stats.values()))
            for (split, sub_split, perturbation), stats in accumulator.slices.items()
        ],
    )


def _record_counters(run_name: str, summary: ShardSummary) -> None:
    """Add a finished shard's counts to the run's counters on the dashboard (see `cluster._counters`)."""
    record_counters(
        run_name,
        {
            "mercury_requests_done": summary.num_requests,
            "mercury_cache_hits": summary.num_cached,
            "mercury_request_errors": summary.num_failed_requests,
            "mercury_completion_tokens": summary.num_tokens,
        },
    )
