"""Reading configs/model_deployments.yaml into `ModelDeployment`s.

The file is checked by pydantic at load; any problem becomes one `ConfigError` naming the file, the entry
(its name, else its index), the key and what is wrong. Client and tokenizer names are not checked here:
the proxy registers clients of its own later, and `get_tokenizer` reports an unknown tokenizer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bench._errors import ConfigError, UnknownModelError
from bench._settings import settings
from bench.models._deployment import ModelDeployment

DEPLOYMENTS_FILE = "model_deployments.yaml"
ALL_GROUP = "all"

_cache: dict[tuple[Path, int], dict[str, ModelDeployment]] = {}


class _DeploymentsFile(BaseModel):
    """The file's shape: a top-level `model_deployments:` list."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model_deployments: list[ModelDeployment] = Field(description="every model the project knows")


def config_dir() -> Path:
    """The configuration folder.

    $MERCURY_CONFIG_DIR if set; else ./configs when it holds model_deployments.yaml (a checkout or a
    project folder); else the configs/ folder beside the installed package.
    """
    configured = settings().config_dir
    if configured is not None:
        return configured
    local = Path.cwd() / "configs"
    if (local / DEPLOYMENTS_FILE).is_file():
        return local
    return Path(__file__).resolve().parents[2] / "configs"


def load_deployments(path: Path | str | None = None) -> dict[str, ModelDeployment]:
    """Every deployment in the file, by name, in file order (read once per file version).

    Args:
        path: the YAML file; default `config_dir() / "model_deployments.yaml"`.

    Raises:
        ConfigError: if the file is missing, is not valid YAML, or an entry does not validate.
    """
    file = (Path(path) if path is not None else config_dir() / DEPLOYMENTS_FILE).expanduser().resolve()
    try:
        key = (file, file.stat().st_mtime_ns)
    except OSError as error:
        raise ConfigError(str(file), f"cannot read the model deployments file: {error.strerror}") from error
    if key not in _cache:
        _cache[key] = _parse(file)
    return dict(_cache[key])


def get_deployment(name: str, path: Path | str | None = None) -> ModelDeployment:
    """The deployment called `name`.

    Raises:
        UnknownModelError: listing the known names, if no entry has that name.
        ConfigError: if the file is invalid.
    """
    deployments = load_deployments(path)
    if name not in deployments:
        raise UnknownModelError(name, list(deployments))
    return deployments[name]


def models_in_group(group: str, path: Path | str | None = None) -> list[str]:
    """Names of the models in `group` in file order ('all': every model); [] for a group nobody names."""
    deployments = load_deployments(path).values()
    return [d.name for d in deployments if group == ALL_GROUP or group in d.groups]


def model_groups(path: Path | str | None = None) -> list[str]:
    """Every group some deployment names, plus 'all', sorted."""
    return sorted({ALL_GROUP}.union(*(d.groups for d in load_deployments(path).values())))


def _parse(file: Path) -> dict[str, ModelDeployment]:
    try:
        # libyaml's loader when PyYAML has it: ~10x faster on this file, read by every command (even one with
        # nothing to do, which must answer in about a second)
        raw = yaml.load(file.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except OSError as error:
        raise ConfigError(str(file), f"cannot read the model deployments file: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ConfigError(str(file), f"invalid YAML: {error}") from error
    try:
        parsed = _DeploymentsFile.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(str(file), _describe(error, raw)) from error
    deployments: dict[str, ModelDeployment] = {}
    for index, deployment in enumerate(parsed.model_deployments):
        if "/" not in deployment.name:
            raise ConfigError(str(file), f"entry {deployment.name!r}: key 'name': must be 'provider/model'")
        if deployment.name in deployments:
            raise ConfigError(str(file), f"entry {index}: key 'name': duplicate model name {deployment.name!r}")
        deployments[deployment.name] = deployment
    return deployments


def _describe(error: ValidationError, raw: Any) -> str:
    """One line per problem: `entry 'name' (or index): key 'k': problem`."""
    return "; ".join(_describe_one(e["loc"], e["msg"], raw) for e in error.errors())


def _describe_one(loc: tuple[int | str, ...], message: str, raw: Any) -> str:
    if not loc:
        return f"the top level must be a mapping with a 'model_deployments' list ({message})"
    if loc[0] != "model_deployments" or len(loc) == 1:
        return f"key {'.'.join(str(p) for p in loc)!r}: {message}"
    index = loc[1]
    entries = raw.get("model_deployments") if isinstance(raw, dict) else None
    entry = entries[index] if isinstance(entries, list) and isinstance(index, int) else None
    name = entry.get("name") if isinstance(entry, dict) else None
    where = f"entry {name!r}" if isinstance(name, str) else f"entry {index}"
    if len(loc) == 2:
        return f"{where}: {message}"
    return f"{where}: key {'.'.join(str(p) for p in loc[2:])!r}: {message}"
