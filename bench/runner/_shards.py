"""One shard's work: adapt its instances, execute its requests, score them, write its files.

A shard gets the run's train instances and its slice of evaluation instances and adapts them itself, so request
states (prompts with their in-context examples) exist only where a shard runs, never all at once in the runner.

A shard is idempotent: it writes its two parquet files, then its summary (`<id>.json`) last, so a shard is in
storage exactly when its summary is, and a shard run again (its worker was killed, or the run is resumed) rewrites
the same files. When the run is resumed and the shard's earlier attempt is stored (its summary made from the same
shard of the same run), the requests that attempt answered for good are kept and only the others are sent again
(`must_retry`). It returns the summary, a few kilobytes of merged Stats and counts, never the results.

Whatever executes it (this process, a Ray task, a warm worker: see `Execution`) calls `run_shard`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from bench._instance import Instance, PerturbationDescription
from bench._plugins import load_plugins
from bench._request import RequestResult
from bench._stat import Stat
from bench.adaptation import RequestState
from bench.metrics import ToxicityService
from bench.models import ModelService
from bench.run_specs import RunSpec
from bench.runner._evaluation import StatsAccumulator, score_instances
from bench.runner._failures import FailureCounts, must_retry
from bench.runner._records import per_instance_table, read_request_states, request_states_table
from bench.runner._sender import ProgressCallback, RequestSender
from bench.runner._sharding import Shard
from bench.runner._steps import adapt, create_metrics, metric_context
from bench.runner._storage import Storage

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
        """The shard's Stats as an accumulator the runner merges."""
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
    """Everything a shard needs besides its instances and its model service; small and picklable."""

    run_spec: RunSpec
    run_dir: str
    storage: Storage
    shard: Shard
    fingerprint: str
    batch_size: int = 8
    parallelism: int = 4
    plugins: tuple[str, ...] = ()
    """Plug-in modules the runner's process loaded (`--plugins`): imported where the shard runs, so their
    metrics are known in a fresh worker process too."""

    @property
    def folder(self) -> str:
        return f"{self.run_dir}/{SHARDS_DIR}"


def run_shard(
    task: ShardTask,
    train: list[Instance],
    evaluation: list[Instance],
    service: ModelService,
    toxicity: ToxicityService | None = None,
    on_progress: ProgressCallback | None = None,
) -> ShardSummary:
    """Adapt, execute, score and store one shard; returns its summary (also stored, last).

    Args:
        train: all the run's train instances, where in-context examples are drawn from.
        evaluation: the shard's evaluation instances (whole instances: with their perturbed copies).
        service: answers the requests; toxicity: for toxicity metrics (None: they report nothing and say why).
        on_progress: advanced by the number of requests answered, as batches finish.

    Raises:
        StorageError: if the shard's files cannot be written after retries.
    """
    load_plugins(task.plugins)  # a fresh worker process has empty registries
    run_spec = task.run_spec
    request_states = adapt(run_spec, [*train, *evaluation])
    executed = _execute(task, request_states, service, on_progress)

    context = metric_context(run_spec, toxicity)
    per_instance = score_instances(create_metrics(run_spec.metric_specs), executed, context)
    summary = _summary(task, executed, StatsAccumulator().add(per_instance))
    states_file, per_instance_file, summary_file = shard_files(task.shard.shard_id)
    task.storage.write_table(f"{task.folder}/{states_file}", request_states_table(executed))
    task.storage.write_table(f"{task.folder}/{per_instance_file}", per_instance_table(per_instance))
    task.storage.write_json(f"{task.folder}/{summary_file}", summary.model_dump(mode="json"))
    return summary


def _execute(
    task: ShardTask,
    request_states: list[RequestState],
    service: ModelService,
    on_progress: ProgressCallback | None,
) -> list[RequestState]:
    """Request states with results: an earlier attempt's result where it need not be retried, else a new one."""
    earlier = _earlier_results(task)
    keys = [_state_key(state) for state in request_states]
    todo = [state for state, key in zip(request_states, keys) if key not in earlier]
    if earlier:
        logger.info(
            "%s: shard %s resumed, %d of %d requests to send",
            task.run_spec.name,
            task.shard.shard_id,
            len(todo),
            len(request_states),
        )
    sender = RequestSender(service, parallelism=task.parallelism, batch_size=task.batch_size)
    executed = iter(sender.execute(todo, on_progress))
    return [
        state.with_result(earlier[key]) if key in earlier else next(executed)
        for state, key in zip(request_states, keys)
    ]


def _earlier_results(task: ShardTask) -> dict[str, RequestResult]:
    """Results of this shard's stored earlier attempt that need not be sent again, by request state; {} when
    there is none (or it belongs to another shard or run: its summary must match)."""
    states_file, _, summary_file = shard_files(task.shard.shard_id)
    if not task.storage.exists(f"{task.folder}/{summary_file}"):
        return {}
    stored = ShardSummary.model_validate(task.storage.read_json(f"{task.folder}/{summary_file}"))
    if not stored.matches(task.shard, task.fingerprint):
        return {}
    return {
        _state_key(state): state.result
        for state in read_request_states(task.storage.read_table(f"{task.folder}/{states_file}"))
        if state.result is not None and not must_retry(state.result)
    }


def _state_key(state: RequestState) -> str:
    """What identifies a request state across attempts at a run: its instance, perturbation, train trial and
    request (adaptation is deterministic, so a rerun makes the same ones)."""
    perturbation = state.instance.perturbation.model_dump_json() if state.instance.perturbation else ""
    return "\x1f".join(
        (state.instance.id or "", perturbation, str(state.train_trial_index), state.request.model_dump_json())
    )


def _summary(task: ShardTask, executed: list[RequestState], accumulator: StatsAccumulator) -> ShardSummary:
    results = [s.result for s in executed if s.result is not None]
    counts = FailureCounts.of(s.result for s in executed)
    return ShardSummary(
        shard_id=task.shard.shard_id,
        start=task.shard.start,
        end=task.shard.end,
        fingerprint=task.fingerprint,
        # instances and perturbed copies, not train trials (a shard holds all of an instance's request states,
        # so the shards' counts add up to the run's)
        num_instances=len({(s.instance.id, s.instance.perturbation) for s in executed}),
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
