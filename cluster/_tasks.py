"""The pipeline's work as Ray tasks: `prepare_run` as a generator task, `run_shard` as a task that builds its
model service (and toxicity service) from picklable factories, once per worker process.

The task returns the shard's summary and adds its counts to the run's counters on the dashboard
(cluster._counters). Everything else a shard does is bench's `run_shard`, the same code the in-process
execution calls.
"""

from __future__ import annotations

from collections.abc import Callable

import ray

from bench import Instance
from bench.metrics import ToxicityService
from bench.runner import ShardSummary, ShardTask, prepare_run, run_shard
from cluster._counters import record_counters
from cluster._service import ServiceFactory, built_once

ToxicityFactory = Callable[[], ToxicityService | None]
"""Builds the toxicity service of toxicity metrics in a worker's process; must pickle."""


def run_shard_task(
    task: ShardTask,
    train: list[Instance],
    evaluation: list[Instance],
    service_factory: ServiceFactory,
    toxicity_factory: ToxicityFactory | None,
) -> ShardSummary:
    """`run_shard` with this process's model service (and toxicity service) from their factories.

    Raises:
        StorageError: if the shard's files cannot be written after retries.
    """
    toxicity = built_once(toxicity_factory) if toxicity_factory is not None else None
    summary = run_shard(task, train, evaluation, built_once(service_factory), toxicity)
    record_counters(
        task.run_spec.name,
        {
            "mercury_requests_done": summary.num_requests,
            "mercury_cache_hits": summary.num_cached,
            "mercury_request_errors": summary.num_failed_requests,
            "mercury_completion_tokens": summary.num_tokens,
        },
    )
    return summary


run_shard_remote = ray.remote(run_shard_task)
"""`run_shard_task` as a Ray task; the execution sets its name, CPUs and retries per call with `.options`."""

prepare_run_remote = ray.remote(prepare_run)
"""`prepare_run` as a Ray generator task (objects it yields belong to its caller, so they outlive its worker);
the execution sets its node, name and retries per call."""
