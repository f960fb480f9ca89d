"""Where a run's work executes: the one thing that differs between running in this process and on Ray.

The `Runner` (bench.runner._runner) is the whole pipeline: it checks what is stored, plans, collects the shards'
summaries, folds the Stats and writes the run's files. An `Execution` only runs its two kinds of work:

- `prepare`: `prepare_run` (load the instances, write the specs, plan the shards), returning the plan and a
  handle on the train instances and on each shard's evaluation instances;
- `run_shards`: `run_shard` for each shard to do, yielding each summary as its shard finishes.

`InProcessExecution` does both here, one shard after the other (debugging, quick checks, tests of the core);
`cluster.RayExecution` runs them as Ray tasks or on warm workers, and its handles are object references.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bench.metrics import ToxicityService
from bench.models import ModelService
from bench.runner._preparation import Preparation, Prepared, prepare_run
from bench.runner._sharding import ShardPlan
from bench.runner._shards import ShardSummary, ShardTask, run_shard


@dataclass
class PreparedRun:
    """A prepared run as its execution holds it: the plan, and handles on the instances its shards need."""

    plan: ShardPlan
    instances_seconds: float
    """How long loading the instances took where they were loaded."""
    train: Any
    """The run's train instances, or a handle on them (on Ray, an object reference every shard reads)."""
    slices: dict[str, Any]
    """Each shard's evaluation instances (or a handle), by shard id; a shard's entry is dropped once it runs."""


class Execution(Protocol):
    """Runs a run's preparing and its shards (see the module docstring)."""

    def slots(self) -> int:
        """Shards that can run at once (it sets the default shard size)."""

    def prepare(self, preparation: Preparation) -> PreparedRun:
        """The run prepared (`prepare_run`).

        Raises:
            MercuryError: loading the instances or resuming failed (ScenarioDataError, ResumeError, StorageError).
        """

    def run_shards(self, tasks: Sequence[ShardTask], prepared: PreparedRun) -> Iterator[ShardSummary]:
        """Run each task's shard (`run_shard`), yielding its summary as it finishes; stop at the first failure.

        Raises:
            StorageError: a shard could not write its files; ShardFailedError: a shard failed otherwise.
        """


class InProcessExecution:
    """Everything in this process, shard after shard, against one model service.

    Args:
        service: answers the requests (e.g. `bench.models.InProcessService`).
        toxicity: the toxicity service of toxicity metrics (None: they report nothing and say why).
    """

    def __init__(self, service: ModelService, toxicity: ToxicityService | None = None) -> None:
        self.service = service
        self.toxicity = toxicity

    def slots(self) -> int:
        return 1

    def prepare(self, preparation: Preparation) -> PreparedRun:
        steps = prepare_run(preparation)
        prepared: Prepared = next(steps)
        train = next(steps)
        slices = {shard.shard_id: next(steps) for shard in prepared.plan.shards}
        return PreparedRun(prepared.plan, prepared.instances_seconds, train, slices)

    def run_shards(self, tasks: Sequence[ShardTask], prepared: PreparedRun) -> Iterator[ShardSummary]:
        for task in tasks:
            evaluation = prepared.slices.pop(task.shard.shard_id)
            yield run_shard(task, prepared.train, evaluation, self.service, self.toxicity)
