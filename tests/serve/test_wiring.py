"""`ProxyAppConfig`, provider settings and configs/serve.yaml (checked the way `serve deploy` reads it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bench import ConfigError
from serve import ProxyAppConfig
from serve._config import AutoscalingConfig, BatchingConfig, ServingConfig
from serve._wiring import provider_settings

ROOT = Path(__file__).resolve().parents[2]


def test_served_models_group_by_provider_and_unknown_ones_are_refused() -> None:
    served = ProxyAppConfig(models=["simple/model1", "openai/gpt-4o"]).served()
    assert {p: list(m) for p, m in served.items()} == {"simple": ["simple/model1"], "openai": ["openai/gpt-4o"]}
    with pytest.raises(ConfigError, match=r"models \['x/y'\] are not in the deployments file"):
        ProxyAppConfig(models=["x/y"]).served()


def test_provider_settings_take_the_most_generous_model() -> None:
    settings = provider_settings(
        [
            ServingConfig(autoscaling=AutoscalingConfig(min_replicas=0, max_replicas=2, target_ongoing_requests=8)),
            ServingConfig(
                num_cpus=1,
                autoscaling=AutoscalingConfig(min_replicas=1, max_replicas=4, target_ongoing_requests=16),
                batching=BatchingConfig(max_batch_size=4),
            ),
        ]
    )
    assert settings.autoscaling == AutoscalingConfig(min_replicas=1, max_replicas=4, target_ongoing_requests=8)
    assert settings.num_cpus == 1 and settings.batching == BatchingConfig(max_batch_size=4)


def test_serve_yaml_is_a_valid_serve_config_whose_builder_builds_the_app() -> None:
    from ray.serve.schema import ServeDeploySchema

    from serve._app import app_builder

    config = ServeDeploySchema.model_validate(yaml.safe_load((ROOT / "configs" / "serve.yaml").read_text()))
    [application] = config.applications
    assert application.import_path == "serve._app:app_builder" and config.http_options.port == 1959
    app = app_builder({**application.args, "models": ["simple/model1", "local/smollm2-135m"]})
    assert type(app).__name__ == "Application"
