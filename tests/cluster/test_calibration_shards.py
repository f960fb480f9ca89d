"""HELM's equal-mass ece_10_bin on Ray: the same figure with one shard, with many, and in the in-process Runner.

Equal-mass ECE is not a function of sums: the driver must see every instance's (confidence, correct) pair.
The run here is a multiple-choice scenario (separate_original on simple/model1, whose choice logprobs are
-0.1 per character, so the choices' random lengths give varied confidences, with ties) of 40 instances.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench import CORRECT_TAG, Instance, Reference, ScenarioSpec, Stat
from bench.adaptation import AdapterSpec
from bench.models import InProcessService
from bench.run_specs import RunSpec, multiple_choice_metric_specs
from bench.runner import Runner
from bench.scenarios import Scenario, scenario
from cluster import InProcessServiceFactory, RayExecution

pytestmark = pytest.mark.usefixtures("ray_cluster")

NUM_EVAL = 40
NAME = "test_random_choices"


class RandomChoices(Scenario):
    """Four choices of random lengths (2 to 9 letters) per question, one of them correct, drawn with seed 0.

    Defined at module level: the driver pickles the scenario into Ray's preparation task by reference."""

    name = NAME

    def get_instances(self, output_path: str) -> list[Instance]:
        rng = random.Random(0)
        instances = []
        for k in range(NUM_EVAL + 1):
            choices = ["".join(rng.choice("abcdefgh") for _ in range(rng.randint(2, 9))) for _ in range(4)]
            correct = rng.randrange(4)
            references = tuple(
                Reference(output=c, tags=(CORRECT_TAG,) if i == correct else ()) for i, c in enumerate(choices)
            )
            split = "train" if k == 0 else "test"
            instances.append(Instance(input=f"Question {k}?", references=references, split=split))
        return instances


@pytest.fixture
def spec(restore_registries: None) -> RunSpec:
    scenario(NAME)(RandomChoices)
    adapter_spec = AdapterSpec(
        method="multiple_choice_separate_original", model="simple/model1", max_train_instances=0, max_tokens=0
    )
    return RunSpec(
        name=f"{NAME}:model=simple/model1",
        scenario_spec=ScenarioSpec(name=NAME),
        adapter_spec=adapter_spec,
        metric_specs=tuple(multiple_choice_metric_specs()),
    )


def calibration_figures(stats: list[Stat]) -> dict[str, tuple[int, float, float, float | None, float | None]]:
    """ECE Stats and the calibration samples' merged Stats, by printed name; compared with ==, so exactly."""
    return {
        str(s.name): (s.count, s.sum, s.sum_squared, s.min, s.max)
        for s in stats
        if s.name.name.startswith(("ece_", "_sample:calibration:"))
    }


def test_equal_mass_ece_is_the_same_for_one_shard_many_and_the_runner(spec: RunSpec, tmp_path: Path) -> None:
    baseline = Runner.in_process(InProcessService(), tmp_path / "baseline", "t").run_one(spec)
    one = Runner(RayExecution(InProcessServiceFactory()), tmp_path / "one", "t", num_shards=1).run_one(spec)
    many = Runner(RayExecution(InProcessServiceFactory()), tmp_path / "many", "t", num_shards=5).run_one(spec)
    assert (one.shards_run, many.shards_run) == (1, 5)

    expected = calibration_figures(baseline.stats)
    assert calibration_figures(one.stats) == expected
    assert calibration_figures(many.stats) == expected
    # a figure worth comparing: 40 instances, confidences that vary, an ECE that is not 0
    ece = {s.name.name: s for s in baseline.stats if s.name.split == "test"}
    assert ece["_sample:calibration:confidence"].count == NUM_EVAL
    assert ece["_sample:calibration:confidence"].min < ece["_sample:calibration:confidence"].max
    assert 0.0 < ece["ece_10_bin"].sum < 1.0
    assert ece["ece_10_bin"].sum != ece["ece_10_bin_equal_width"].sum
