"""Shard plans: whole instance groups per shard, sizes, defaults, fingerprints that detect change."""

from __future__ import annotations

import pytest

from bench import Instance, PerturbationDescription, Request
from bench.adaptation import RequestState
from cluster import default_shard_size, fingerprint, plan_shards, split_by_plan


def _states(n: int, per_instance: int = 1) -> list[RequestState]:
    """n instances with `per_instance` request states each (e.g. one per reference, as separate MC makes)."""
    return [
        RequestState(
            instance=Instance(input=f"q{i}", id=f"id{i}"),
            reference_index=r,
            request=Request(model="simple/model1", prompt=f"q{i} r{r}"),
        )
        for i in range(n)
        for r in range(per_instance)
    ]


def test_shards_hold_whole_instance_groups_in_order() -> None:
    states = _states(5, per_instance=3)
    plan, contents = plan_shards(states, shard_size=2)
    assert [(s.shard_id, s.start, s.end, s.num_requests) for s in plan.shards] == [
        ("00000", 0, 2, 6),
        ("00001", 2, 4, 6),
        ("00002", 4, 5, 3),
    ]
    assert [state for shard in contents for state in shard] == states
    assert {s.instance.id for s in contents[1]} == {"id2", "id3"}
    assert plan.num_groups == 5


def test_a_perturbed_copy_is_its_own_group() -> None:
    typo = PerturbationDescription(name="typos", robustness=True)
    states = _states(2)
    states += [s.model_copy(update={"instance": s.instance.model_copy(update={"perturbation": typo})}) for s in states]
    plan, _ = plan_shards(states, shard_size=1)
    assert len(plan.shards) == 4


def test_number_of_shards_instead_of_a_size() -> None:
    plan, _ = plan_shards(_states(10), num_shards=3)
    assert [(s.start, s.end) for s in plan.shards] == [(0, 4), (4, 8), (8, 10)]
    plan, _ = plan_shards(_states(2), num_shards=5)  # never an empty shard
    assert [(s.start, s.end) for s in plan.shards] == [(0, 1), (1, 2)]


def test_default_size_gives_every_slot_two_shards_between_25_and_500() -> None:
    assert default_shard_size(2000, slots=4) == 250
    assert default_shard_size(20000, slots=4) == 500
    assert default_shard_size(3, slots=4) == 25  # a small run is one task: starting tasks costs more than it saves
    assert default_shard_size(0, slots=4) == 25
    plan, _ = plan_shards(_states(40), slots=4)
    assert len(plan.shards) == 2
    plan, _ = plan_shards(_states(400), slots=4)
    assert len(plan.shards) == 8


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="shard size must be at least 1, got 0"):
        plan_shards(_states(2), shard_size=0)
    with pytest.raises(ValueError, match="number of shards must be at least 1, got -1"):
        plan_shards(_states(2), num_shards=-1)


def test_fingerprint_ignores_results_but_not_requests() -> None:
    from bench import RequestResult

    states = _states(3)
    with_results = [s.with_result(RequestResult(success=True)) for s in states]
    assert fingerprint(states) == fingerprint(with_results)
    changed = [*states[:2], states[2].model_copy(update={"request": Request(model="simple/model1", prompt="other")})]
    assert fingerprint(states) != fingerprint(changed)


def test_split_by_a_stored_plan_reproduces_its_shards() -> None:
    states = _states(7, per_instance=2)
    plan, contents = plan_shards(states, shard_size=3)
    assert split_by_plan(plan, states) == contents
