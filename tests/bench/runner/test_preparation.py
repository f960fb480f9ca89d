"""The preparing task's generator, called in-process: what it yields, writes and refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import bench
from bench import TRAIN_SPLIT, ResumeError
from bench.run_specs import expand_run_entry
from bench.runner import Preparation, Prepared, Storage, load_instances, prepare_run
from bench.scenarios import create_scenario
from tests.bench.augmentation.helm_data import place_helm_data


def preparation(tmp_path: Path, entry: str, **options: int) -> Preparation:
    bench.load_builtins()
    [run_spec] = expand_run_entry(entry)
    scenario = create_scenario(run_spec.scenario_spec.name, run_spec.scenario_spec.args)
    return Preparation(
        run_spec=run_spec,
        scenario=scenario,
        run_dir="runs/x/run",
        storage=Storage(str(tmp_path / "out")),
        scenario_cache=str(tmp_path / "cache"),
        slots=2,
        **options,  # type: ignore[arg-type]
    )


def test_yields_the_plan_the_train_instances_then_each_shards_slice(tmp_path: Path) -> None:
    entry = "simple1:num_test_instances=60,model=simple/model1,data_augmentation=canonical"
    for cache in (tmp_path / "cache", tmp_path):  # HELM's dialect and name files, where each run looks for them
        place_helm_data(cache / "perturbations")
    prepared, train, *slices = list(prepare_run(preparation(tmp_path, entry, shard_size=25)))
    assert isinstance(prepared, Prepared)
    _, instances = load_instances(expand_run_entry(entry)[0], tmp_path / "cache2")
    assert train == [i for i in instances if i.split == TRAIN_SPLIT]
    evaluation = [i for i in instances if i.split != TRAIN_SPLIT]
    assert [i for piece in slices for i in piece] == evaluation
    assert len(slices) == len(prepared.plan.shards) == 3  # 60 instances with their perturbed copies, 25 a shard
    assert all(piece[0].perturbation is None for piece in slices)  # no instance is cut from its copies
    run_dir = tmp_path / "out" / "runs" / "x" / "run"
    stored = json.loads((run_dir / "shards" / "plan.json").read_text())
    assert stored == prepared.plan.model_dump(mode="json")
    assert json.loads((run_dir / "scenario.json").read_text())["num_instances"]["test"] == len(evaluation)


def test_a_resume_keeps_the_stored_plan_and_refuses_one_of_other_instances(tmp_path: Path) -> None:
    first, *_ = prepare_run(preparation(tmp_path, "simple1:num_test_instances=60,model=simple/model1", shard_size=10))
    again, *_ = prepare_run(preparation(tmp_path, "simple1:num_test_instances=60,model=simple/model1", shard_size=30))
    assert again.plan == first.plan  # the stored cut wins over a new shard size
    with pytest.raises(ResumeError, match="made from other request states"):
        list(prepare_run(preparation(tmp_path, "simple1:num_test_instances=61,model=simple/model1")))
