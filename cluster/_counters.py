"""The runs' counters on the Ray dashboard (Prometheus, through Ray's metrics agent), held by one detached actor.

Shard tasks live for seconds and a job's workers end with the job, often before Ray's metrics agent has exported
what they recorded: counters recorded there would miss short runs. So tasks hand their counts to one small
detached actor (`mercury-counters`, 0 CPU), which outlives every job and keeps each run's series. Every counter
gets a point, zero included, so a run's series exist from its first shard on (a chart of errors shows 0, not
"no data").
"""

from __future__ import annotations

import logging
from typing import Any

import ray

logger = logging.getLogger(__name__)

COUNTERS = {
    "mercury_requests_done": "Requests executed by shard tasks",
    "mercury_cache_hits": "Requests answered from the proxy's cache",
    "mercury_request_errors": "Requests whose result is a failure (provider errors)",
    "mercury_completion_tokens": "Completion tokens received",
}
"""Counter name (Prometheus adds the `ray_` prefix and `_total` suffix) -> what it counts; tagged by run."""

ACTOR_NAME = "mercury-counters"
ACTOR_NAMESPACE = "mercury"
RECORD_TIMEOUT_SECONDS = 30.0
"""How long a task waits for the actor to take its counts (a bounded wait: counters never hold up a run)."""


class RunCounters:
    """The Ray counters, created once in the actor's process."""

    def __init__(self) -> None:
        from ray.util.metrics import Counter

        self.counters = {
            name: Counter(name, description=description, tag_keys=("run",)) for name, description in COUNTERS.items()
        }

    def add(self, run_name: str, values: dict[str, int]) -> None:
        """Add a finished shard's counts (a retried shard counts again)."""
        tags = {"run": run_name}
        for name, counter in self.counters.items():
            value = values.get(name, 0)
            if value > 0:
                counter.inc(value, tags=tags)
            else:  # Counter.inc refuses 0: the recording underneath it makes the series exist at 0
                counter._record(0, tags=tags)


def record_counters(run_name: str, values: dict[str, int]) -> None:
    """Hand a shard's counts to the counters actor (made on first use); a failure is logged, never raised."""
    if not ray.is_initialized():
        return
    try:
        actor: Any = (
            ray.remote(RunCounters)
            .options(name=ACTOR_NAME, namespace=ACTOR_NAMESPACE, lifetime="detached", get_if_exists=True, num_cpus=0)
            .remote()
        )
        ray.get(actor.add.remote(run_name, values), timeout=RECORD_TIMEOUT_SECONDS)
    except Exception as e:  # the dashboard's counters are never worth a shard
        logger.warning("could not record the run's counters: %s", e)
