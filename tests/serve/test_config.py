"""Serving settings from configs/model_deployments.yaml: the real file, defaults, and the errors bad blocks give."""

from __future__ import annotations

from pathlib import Path

import pytest

import bench
from bench import ConfigError
from bench.models import ModelDeployment, load_deployments
from serve import ServingConfig, load_serving_configs, quota_group, serving_config

REAL_FILE = Path(bench.__file__).resolve().parents[1] / "configs" / "model_deployments.yaml"


def deployment(serving: dict[str, object]) -> ModelDeployment:
    return ModelDeployment(name="openai/x", client="openai", tokenizer="t", context_window=10, serving=serving)


def test_real_file_validates() -> None:
    configs = load_serving_configs(load_deployments(REAL_FILE), REAL_FILE)
    assert configs["openai/gpt-4o-mini"].requests_per_minute == 5000
    assert configs["openai/gpt-4o-mini"].autoscaling.max_replicas == 4
    assert configs["local/smollm2-135m"].batching is not None
    assert configs["local/smollm2-135m"].batching.max_batch_size == 8
    assert configs["simple/model1"] == ServingConfig()  # no block: defaults


def test_defaults_and_quota_group() -> None:
    config = serving_config(deployment({}))
    assert (config.num_cpus, config.autoscaling.min_replicas, config.requests_per_minute) == (0.1, 1, None)
    assert quota_group(deployment({}), config) == "openai"
    assert quota_group(deployment({}), ServingConfig(quota_group="gpt4")) == "gpt4"


@pytest.mark.parametrize(
    ("serving", "expected"),
    [
        ({"replicas": 2}, r"model 'openai/x': key 'serving.replicas': Extra inputs are not permitted"),
        ({"num_cpus": 0}, r"key 'serving.num_cpus': Input should be greater than 0 \(got 0\)"),
        (
            {"autoscaling": {"min_replicas": 3, "max_replicas": 2}},
            r"key 'serving.autoscaling': .*min_replicas \(3\) must not exceed max_replicas \(2\)",
        ),
        ({"batching": {"max_batch_size": "many"}}, r"key 'serving.batching.max_batch_size': .*valid integer"),
    ],
)
def test_bad_block_names_file_model_key_problem(serving: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError, match=r"^conf/m\.yaml: .*" + expected):
        serving_config(deployment(serving), "conf/m.yaml")
