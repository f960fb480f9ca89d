"""Splitting a run's request states into shards that Ray tasks execute, with ids that survive a restart.

A shard is a contiguous range of instance groups (all request states of one instance, perturbation and train
trial), so every per-instance metric is computed inside one task. The plan (ranges plus a fingerprint of the
request states) is stored with the run: a resumed run reuses it even if the cluster, and so the default shard
size, changed in between, and a shard file is reused only if it records the same range and fingerprint.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from bench.adaptation import RequestState
from bench.runner import group_request_states

SHARDS_PER_SLOT = 2
"""Default shards per task slot: enough that a slow shard does not leave cores idle at the end."""

MAX_DEFAULT_SHARD_SIZE = 500
"""Default upper bound on instances per shard, which bounds a task's memory and the work a retry repeats."""


class Shard(BaseModel):
    """One task's share of a run: instance groups [start, end) of the run's request states."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shard_id: str = Field(description="stable name, e.g. '00003'; also names the shard's files")
    start: int = Field(description="first instance group (inclusive)")
    end: int = Field(description="last instance group (exclusive)")
    num_requests: int = Field(description="request states in the shard")


class ShardPlan(BaseModel):
    """How a run is cut into shards; stored as shards/plan.json."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fingerprint: str = Field(description="sha256 of the run's request states (without results)")
    num_groups: int
    shards: tuple[Shard, ...]


def fingerprint(request_states: Sequence[RequestState]) -> str:
    """A digest of the request states (no results): equal iff the same requests for the same instances."""
    digest = hashlib.sha256()
    for state in request_states:
        digest.update(state.model_dump_json(exclude={"result"}).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


MIN_DEFAULT_SHARD_SIZE = 25
"""A task costs a worker process and a model service to start: below this many instances that outweighs
running shards in parallel (ten instances make one task, not ten)."""


def default_shard_size(num_groups: int, slots: int) -> int:
    """Instances per shard so that every task slot gets about `SHARDS_PER_SLOT` shards, between 25 and 500."""
    target_shards = max(1, slots * SHARDS_PER_SLOT)
    return max(MIN_DEFAULT_SHARD_SIZE, min(MAX_DEFAULT_SHARD_SIZE, math.ceil(num_groups / target_shards)))


def plan_shards(
    request_states: Sequence[RequestState],
    *,
    shard_size: int | None = None,
    num_shards: int | None = None,
    slots: int = 1,
) -> tuple[ShardPlan, list[list[RequestState]]]:
    """Cut request states into shards of whole instance groups; returns the plan and each shard's states.

    Args:
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
    groups = group_request_states(request_states)
    if shard_size is None:
        shard_size = (
            math.ceil(len(groups) / num_shards) if num_shards else default_shard_size(len(groups), slots)
        ) or 1
    shards: list[Shard] = []
    contents: list[list[RequestState]] = []
    for index, start in enumerate(range(0, len(groups), shard_size)):
        end = min(start + shard_size, len(groups))
        states = [state for group in groups[start:end] for state in group]
        shards.append(Shard(shard_id=f"{index:05d}", start=start, end=end, num_requests=len(states)))
        contents.append(states)
    plan = ShardPlan(fingerprint=fingerprint(request_states), num_groups=len(groups), shards=tuple(shards))
    return plan, contents


def split_by_plan(plan: ShardPlan, request_states: Sequence[RequestState]) -> list[list[RequestState]]:
    """Each shard's request states under a stored plan (made from the same request states)."""
    groups = group_request_states(request_states)
    return [[state for group in groups[s.start : s.end] for state in group] for s in plan.shards]
