"""`ServingConfig`: how the proxy serves one model, from the `serving:` key of its entry in
configs/model_deployments.yaml.

bench keeps `serving` as a free-form mapping; the proxy checks it here (unknown keys are errors) and
reports any problem as one `ConfigError` naming the file, the model, the key and what is wrong:

    configs/model_deployments.yaml: model 'openai/gpt-4o': key 'serving.autoscaling.max_replicas': ...

An entry without `serving:` gets the defaults below. Where the proxy keeps its state (cache, accounts,
credentials) is `proxy_env_path()`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bench import ConfigError, settings
from bench.models import ModelDeployment, config_dir

PROD_ENV_VARIABLE = "MERCURY_PROD_ENV"
DEFAULT_PROD_ENV = "prod_env"


def proxy_env_path() -> Path:
    """The proxy's state folder: $MERCURY_PROD_ENV if set, else ./prod_env (the original proxy's default)."""
    return settings().prod_env


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AutoscalingConfig(_Strict):
    """Replicas of the model's provider deployment (Ray Serve autoscaling)."""

    min_replicas: int = Field(default=1, ge=0, description="replicas kept running when idle")
    max_replicas: int = Field(default=1, ge=1, description="replicas at most")
    target_ongoing_requests: float = Field(default=2.0, gt=0, description="in-flight requests per replica to aim at")

    @model_validator(mode="after")
    def _min_not_above_max(self) -> AutoscalingConfig:
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas ({self.min_replicas}) must not exceed max_replicas ({self.max_replicas})")
        return self


class BatchingConfig(_Strict):
    """Dynamic batching of a local model: requests that arrive together run as one batch."""

    max_batch_size: int = Field(default=8, ge=1, description="requests per batch at most")
    batch_wait_timeout_s: float = Field(default=0.05, ge=0, description="seconds to wait for a batch to fill")


class RetryConfig(_Strict):
    """Retries of provider failures that may pass (429, 5xx, timeouts, dropped connections)."""

    max_attempts: int = Field(default=5, ge=1, description="attempts in all, the first included")
    max_total_seconds: float = Field(default=120.0, gt=0, description="no new attempt starts after this")
    initial_backoff_seconds: float = Field(default=1.0, ge=0, description="wait before the first retry")
    max_backoff_seconds: float = Field(default=30.0, ge=0, description="cap on one wait")
    request_timeout_seconds: float = Field(default=60.0, gt=0, description="timeout of one provider call")


class ServingConfig(_Strict):
    """How the proxy serves one model."""

    autoscaling: AutoscalingConfig = Field(default_factory=AutoscalingConfig, description="replicas")
    num_cpus: float = Field(default=0.1, gt=0, description="CPUs per replica (fractional)")
    requests_per_minute: int | None = Field(default=None, gt=0, description="provider's request rate limit")
    tokens_per_minute: int | None = Field(default=None, gt=0, description="provider's token rate limit")
    max_queue_wait_seconds: float = Field(
        default=30.0, ge=0, description="longest a request waits for the rate limit before a 429"
    )
    burst_fraction: float = Field(
        default=0.1,
        gt=0,
        le=1,
        description="share of each per-minute limit that may go at once (at least 1); the rest is spread so "
        "that no trailing minute exceeds the limit",
    )
    rate_limit_margin_seconds: float = Field(
        default=1.0,
        ge=0,
        description="delay between a request's turn and its arrival at the provider that the limits allow for",
    )
    batching: BatchingConfig | None = Field(default=None, description="dynamic batching (local models)")
    retry: RetryConfig = Field(default_factory=RetryConfig, description="retries of provider failures")
    quota_group: str | None = Field(
        default=None, description="model group that account quotas charge (default: the provider name)"
    )


def serving_config(deployment: ModelDeployment, source: str | Path | None = None) -> ServingConfig:
    """The checked serving settings of `deployment`.

    Args:
        deployment: the model's entry.
        source: the file it came from, for messages (default: configs/model_deployments.yaml).

    Raises:
        ConfigError: naming the file, the model, the key and the problem.
    """
    try:
        return ServingConfig.model_validate(deployment.serving)
    except ValidationError as error:
        where = str(source) if source is not None else str(config_dir() / "model_deployments.yaml")
        raise ConfigError(where, _describe(deployment.name, error)) from error


def quota_group(deployment: ModelDeployment, config: ServingConfig) -> str:
    """The model group whose quotas a request to `deployment` is charged against."""
    return config.quota_group or deployment.provider


def load_serving_configs(deployments: dict[str, ModelDeployment], source: str | Path) -> dict[str, ServingConfig]:
    """Every deployment's serving settings, checked at load.

    Raises:
        ConfigError: for the first entry whose `serving:` does not validate.
    """
    return {name: serving_config(d, source) for name, d in deployments.items()}


def _describe(model: str, error: ValidationError) -> str:
    return "; ".join(_describe_one(model, e["loc"], e["msg"], e.get("input")) for e in error.errors())


def _describe_one(model: str, loc: tuple[int | str, ...], message: str, value: Any) -> str:
    key = ".".join(["serving", *(str(p) for p in loc)])
    shown = "" if isinstance(value, dict) or value is None else f" (got {value!r})"
    return f"model {model!r}: key {key!r}: {message}{shown}"
