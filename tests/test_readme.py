"""The README's extension examples run as written: a scenario, a metric and a perturbation."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench import CORRECT_TAG, TEST_SPLIT, TRAIN_SPLIT, Instance, Reference, ScenarioSpec
from bench.augmentation import Perturbation, perturbation
from bench.metrics import Metric, metric, plain
from bench.models import InProcessService
from bench.run_specs import (
    RunSpec,
    exact_match_metric_specs,
    expand_run_entry,
    generation_adapter_spec,
    run_spec_function,
)
from bench.runner import Runner
from bench.scenarios import Scenario, scenario

README = Path(__file__).parents[1] / "README.md"


def _extension_code() -> str:
    section = README.read_text().split("## Extending Mercury", 1)[1].split("\n## ", 1)[0]
    return "\n".join(re.findall(r"```python\n(.*?)```", section, flags=re.S))


@pytest.mark.usefixtures("restore_registries")
def test_readme_extension_examples_run(tmp_path: Path) -> None:
    from bench import MetricSpec, PerturbationSpec
    from bench.augmentation import DataAugmenterSpec

    namespace = dict(
        scenario=scenario, Scenario=Scenario, Instance=Instance, Reference=Reference, CORRECT_TAG=CORRECT_TAG,
        TEST_SPLIT=TEST_SPLIT, TRAIN_SPLIT=TRAIN_SPLIT, run_spec_function=run_spec_function, RunSpec=RunSpec,
        ScenarioSpec=ScenarioSpec, generation_adapter_spec=generation_adapter_spec,
        exact_match_metric_specs=exact_match_metric_specs, metric=metric, Metric=Metric, plain=plain,
        perturbation=perturbation, Perturbation=Perturbation, dataclass=dataclass, random=random,
    )  # fmt: skip
    exec(compile(_extension_code(), str(README), "exec"), namespace)
    [run_spec] = expand_run_entry("my_task:size=20,model=simple/model1")
    run_spec = run_spec.model_copy(
        update={
            "metric_specs": (*run_spec.metric_specs, MetricSpec(name="answer_length")),
            "data_augmenter_spec": DataAugmenterSpec(
                perturbation_specs=(PerturbationSpec(name="shout"),), should_augment_eval_instances=True
            ),
        }
    )
    result = Runner(InProcessService(), tmp_path, "readme").run_one(run_spec)
    names = {(s.name.name, s.name.perturbation.name if s.name.perturbation else None) for s in result.stats}
    assert ("answer_length", "shout") in names and ("exact_match", "shout") in names
    assert result.num_requests == 16  # 20 instances, every fifth is a train instance
