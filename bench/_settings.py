"""Mercury's settings: every environment variable it reads, with its default, in one typed object.

Precedence, lowest first: the defaults here, then the environment; command-line flags win over both where a
flag exists (the `jobs/` layer applies them). Only the environment is a source (no `.env` file, no secrets
folder), and only the variables named here are read. An empty variable counts as unset.

The environment is read at each `settings()` call, not once at import: tests and `ray job submit` set
variables after Mercury is imported, and a Ray worker gets its job's variables in its own process. Provider
credentials (`OPENAI_API_KEY`, ...) are not here: they are secrets read at use (`bench.load_credentials`).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from bench._errors import ConfigError

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class MercurySettings(BaseSettings):
    """The environment Mercury reads. Field descriptions are the README's table."""

    model_config = SettingsConfigDict(
        case_sensitive=True, env_ignore_empty=True, extra="ignore", frozen=True, populate_by_name=False
    )

    config_dir: Path | None = Field(
        default=None,
        validation_alias="MERCURY_CONFIG_DIR",
        description="the configs folder (model_deployments.yaml, run_specs.conf); default: ./configs when it "
        "has model_deployments.yaml, else the one installed with Mercury",
    )
    cache_dir: Path = Field(
        default=Path("~/.cache/mercury"),
        validation_alias="MERCURY_CACHE_DIR",
        description="downloads and conversions: the local model, scenario data of runs written to S3",
    )
    prod_env: Path = Field(
        default=Path("prod_env"),
        validation_alias="MERCURY_PROD_ENV",
        description="the proxy's state folder: accounts, cache, credentials.conf",
    )
    proxy_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        validation_alias="MERCURY_PROXY_PORT",
        description="HTTP port of the proxy that benchmark-run deploys (--proxy-port wins; default: the port of "
        "configs/serve.yaml, else 1959)",
    )
    api_key: SecretStr | None = Field(
        default=None,
        validation_alias="MERCURY_API_KEY",
        description="benchmark-run's proxy API key (--api-key wins; default: its own account in the state folder)",
    )
    log_level: LogLevel = Field(
        default="INFO", validation_alias="MERCURY_LOG_LEVEL", description="log level of the commands (--log-level wins)"
    )
    ray_dir: Path | None = Field(
        default=None,
        validation_alias="MERCURY_RAY_DIR",
        description="the folder of the local Ray head that benchmark-run starts and joins when RAY_ADDRESS is "
        "unset (default: $MERCURY_CACHE_DIR/ray)",
    )
    ray_idle_minutes: float = Field(
        default=30.0,
        gt=0,
        allow_inf_nan=False,
        validation_alias="MERCURY_RAY_IDLE_MINUTES",
        description="the local head stops after this many minutes without a connected driver (`mercury-cluster "
        "up --idle-minutes` wins)",
    )
    local_cluster: bool = Field(
        default=True,
        validation_alias="MERCURY_LOCAL_CLUSTER",
        description="0 (or false, no, off): every command starts and ends its own Ray instead of joining the "
        "local head (as --no-local-cluster)",
    )
    background_start: bool = Field(
        default=True,
        validation_alias="MERCURY_BACKGROUND_START",
        description="0 (or false, no, off): a command that finds no local head starts it (and deploys the proxy "
        "app) before it runs, instead of running in its own process while they come up in the background",
    )
    warm_workers: bool = Field(
        default=True,
        validation_alias="MERCURY_WARM_WORKERS",
        description="0 (or false, no, off): shards run as new Ray tasks, never in the warm workers (detached "
        "actors that outlive a command on a single-node cluster)",
    )
    warm_worker_idle_seconds: float = Field(
        default=900.0,
        gt=0,
        allow_inf_nan=False,
        validation_alias="MERCURY_WARM_WORKER_IDLE_SECONDS",
        description="a warm worker ends after this many seconds without a call",
    )
    ray_address: str | None = Field(
        default=None,
        validation_alias="RAY_ADDRESS",
        description="Ray's own: the cluster to join (default: start a local Ray)",
    )
    s3_endpoint_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
        description="AWS's own: an S3-compatible server for s3:// outputs (the first of AWS_ENDPOINT_URL_S3, "
        "AWS_ENDPOINT_URL)",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("config_dir", "cache_dir", "prod_env", "ray_dir")
    @classmethod
    def _expand_user(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Values given in code (tests), then the environment; never a .env file or a secrets folder."""
        return init_settings, env_settings


def settings() -> MercurySettings:
    """The settings from the environment as it is now (cheap: callers on a request's path may call it).

    Raises:
        ConfigError: naming the variable, its bad value and the rule, for the first bad variable.
    """
    return _settings_for(tuple(os.environ.get(name) for name in (*_variables(), "HOME")))  # HOME: for "~"


@functools.cache
def _variables() -> tuple[str, ...]:
    """Every variable the settings read."""
    names: list[str] = []
    for field in MercurySettings.model_fields.values():
        alias = field.validation_alias
        names += [str(a) for a in alias.choices] if isinstance(alias, AliasChoices) else [str(alias)]
    return tuple(names)


@functools.lru_cache(maxsize=16)
def _settings_for(values: tuple[str | None, ...]) -> MercurySettings:
    """The settings for these values of `_variables()` and HOME (building them reads the whole environment,
    which costs far more than a lookup: once per distinct set of values, not per call)."""
    try:
        return MercurySettings()
    except ValidationError as error:
        first = error.errors()[0]
        variable = _variable(str(first["loc"][0]) if first["loc"] else "")
        value = os.environ.get(variable, first.get("input"))  # as the user wrote it, before any normalising
        raise ConfigError(f"environment variable {variable}", f"{value!r}: {first['msg']}") from None


def _variable(location: str) -> str:
    """The environment variable a validation error's location names (an alias, or a field's alias)."""
    field = MercurySettings.model_fields.get(location)
    if field is None:
        return location
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return str(alias) if alias else location
