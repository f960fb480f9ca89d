"""Cutting a run's evaluation instances into shards, each adapted and executed on its own, with stable ids.

A shard is a contiguous range of the run's evaluation instances (after the evaluation subset and
perturbations) that never separates an instance from its perturbed copies, so all request states of an
instance (every train trial, perturbation and reference) are made, executed and scored inside one task. The
driver never adapts: each task adapts the train instances plus its own slice, which gives exactly the request
states adapting everything would give for that slice (in-context examples are drawn per train trial from the
train instances alone, see bench.adaptation._in_context).

The plan (ranges plus a fingerprint of the run spec and instances) is stored with the run: a resumed run
reuses it even if the cluster, and so the default shard size, changed in between, and a shard file is reused
only if it records the same range and fingerprint.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from bench._instance import Instance

SHARDS_PER_SLOT = 2
"""Default shards per task slot: enough that a slow shard does not leave cores idle at the end."""

MAX_DEFAULT_SHARD_SIZE = 500
"""Default upper bound on instances per shard, which bounds a task's memory and the work a retry repeats."""

MIN_DEFAULT_SHARD_SIZE = 25
"""A task costs a worker process and a model service to start: below this many instances that outweighs
running shards in parallel (ten instances make one task, not ten)."""


class Shard(BaseModel):
    """One task's share of a run: evaluation instances [start, end) of the run, in run order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shard_id: str = Field(description="stable name, e.g. '00003'; also names the shard's files")
    start: int = Field(description="first evaluation instance (inclusive; perturbed copies count)")
    end: int = Field(description="last evaluation instance (exclusive)")

    @property
    def num_instances(self) -> int:
        """Evaluation instances in the shard, perturbed copies included."""
        return self.end - self.start


class ShardPlan(BaseModel):
    """How a run is cut into shards; stored as shards/plan.json."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fingerprint: str = Field(description="sha256 of the run spec and the run's instances (see `fingerprint`)")
    num_groups: int = Field(description="evaluation instances with their perturbed copies, the unit of cutting")
    num_instances: int = Field(description="evaluation instances, perturbed copies included")
    shards: tuple[Shard, ...]


def fingerprint(run_spec_json: str, instances: Iterable[Instance]) -> str:
    """A digest of what a run's request states are made from, computed without adapting.

    It covers the run spec (model, adapter, metrics, perturbations) and every instance the tasks adapt, train
    and evaluation, in order (ids, inputs, references, splits, perturbations): equal inputs give equal request
    states as long as the adapter's code is the same. A change of the adapter's code alone is not detected;
    rerun with --force after one.
    """
    digest = hashlib.sha256(run_spec_json.encode("utf-8"))
    digest.update(b"\n")
    for instance in instances:
        digest.update(instance.model_dump_json().encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def instance_groups(evaluation: Sequence[Instance]) -> list[int]:
    """Where each group starts: an instance and the perturbed copies that follow it share an id."""
    starts: list[int] = []
    for index, instance in enumerate(evaluation):
        if index == 0 or instance.id is None or instance.id != evaluation[index - 1].id:
            starts.append(index)
    return starts


def default_shard_size(num_groups: int, slots: int) -> int:
    """Instances per shard so that every task slot gets about `SHARDS_PER_SLOT` shards, between 25 and 500."""
    target_shards = max(1, slots * SHARDS_PER_SLOT)
    return max(MIN_DEFAULT_SHARD_SIZE, min(MAX_DEFAULT_SHARD_SIZE, math.ceil(num_groups / target_shards)))


def plan_shards(
    evaluation: Sequence[Instance],
    fingerprint: str,
    *,
    shard_size: int | None = None,
    num_shards: int | None = None,
    slots: int = 1,
) -> ShardPlan:
    """Cut evaluation instances into shards of whole instance groups (an instance with its perturbed copies).

    Args:
        evaluation: the run's evaluation instances, in run order (each perturbed copy after its instance).
        fingerprint: the run's `fingerprint`, stored in the plan.
        shard_size: instance groups per shard; wins over `num_shards`.
        num_shards: how many shards (at most one per instance group).
        slots: tasks that can run at once, for the default size (`default_shard_size`).

    Raises:
        ValueError: for a size or count below 1.
    """
    if shard_size is not None and shard_size < 1:
        raise ValueError(f"shard size must be at least 1, got {shard_size}")
    if num_shards is not None and num_shards < 1:
        raise ValueError(f"number of shards must be at least 1, got {num_shards}")
    starts = instance_groups(evaluation)
    if shard_size is None:
        shard_size = (
            math.ceil(len(starts) / num_shards) if num_shards else default_shard_size(len(starts), slots)
        ) or 1
    bounds = [*starts[::shard_size], len(evaluation)]
    shards = tuple(
        Shard(shard_id=f"{index:05d}", start=start, end=end)
        for index, (start, end) in enumerate(itertools.pairwise(bounds))
    )
    return ShardPlan(fingerprint=fingerprint, num_groups=len(starts), num_instances=len(evaluation), shards=shards)


def split_by_plan(plan: ShardPlan, evaluation: Sequence[Instance]) -> list[list[Instance]]:
    """Each shard's evaluation instances under a plan (made from the same instances)."""
    return [list(evaluation[shard.start : shard.end]) for shard in plan.shards]
