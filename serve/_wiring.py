"""`ProxyAppConfig`: what a proxy deployment is built from, and the pieces every wiring shares.

The Ray Serve app (`serve._app.build_app`) and the in-process wiring (`local_service`, for tests and for
tools that want the proxy without Ray) are built from the same config: which models (all of
configs/model_deployments.yaml by default, or a subset), grouped by provider, and the state folder.
State under the base path: `accounts.jsonl` and `cache/<provider>.sqlite`. The benchmark results served at
/benchmarks/ are the folder `benchmarks_path` (where `benchmark-present` writes its sites by default).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bench import ConfigError
from bench.models import ModelDeployment, config_dir, load_deployments
from serve._accounts import Accounts
from serve._config import AutoscalingConfig, BatchingConfig, ServingConfig, load_serving_configs
from serve._facades import AccountsFacade, RateLimitersFacade, SharedCacheFacade
from serve._limiters import RateLimiters
from serve._limits import RequestLimits
from serve._provider_service import ProviderService
from serve._proxy_service import ProviderAnswers, ProviderStream, ProxyService
from serve._remote import LocalRemote
from serve._shared_cache import SharedCache

logger = logging.getLogger(__name__)

CACHE_FOLDER = "cache"
DEFAULT_BENCHMARKS_PATH = "benchmark_output/presentation"
"""Where `benchmark-present` writes its sites by default (one folder per suite), relative to the working folder."""


APP_NAME = "mercury-proxy"
"""The Serve application's name: proxy-server, configs/serve.yaml and benchmark-run all use it."""


class ProxyAppConfig(BaseModel):
    """The proxy application's settings (the `args:` of configs/serve.yaml)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_path: str = Field(default="prod_env", description="state folder: accounts, cache, credentials.conf")
    deployments_file: str | None = Field(default=None, description="model deployments YAML (default: configs/)")
    models: list[str] | None = Field(default=None, description="serve only these models (default: every model)")
    ingress_num_cpus: float = Field(default=0.1, gt=0, description="CPUs of each ingress replica")
    ingress_replicas: int = Field(default=1, ge=1, description="ingress replicas")
    benchmarks_path: str = Field(
        default=DEFAULT_BENCHMARKS_PATH,
        description="folder of benchmark-present sites served at /benchmarks/ (relative: to the working folder "
        "of the ingress replicas; proxy-server passes an absolute one)",
    )
    limits: RequestLimits = Field(
        default_factory=RequestLimits, description="bounds every request is checked against before any work"
    )
    plugins: list[str] = Field(
        default_factory=list,
        description="plug-in modules (e.g. a client's) every replica imports, after the mercury.plugins entry "
        "points; those not installed are shipped to the replicas",
    )

    def deployments_path(self) -> Path:
        return Path(self.deployments_file) if self.deployments_file else config_dir() / "model_deployments.yaml"

    def all_deployments(self) -> dict[str, ModelDeployment]:
        """Every model the deployments file knows (served here or not)."""
        return load_deployments(self.deployments_path())

    def served(self) -> dict[str, dict[str, ModelDeployment]]:
        """provider -> model -> deployment, for the models this proxy serves.

        Raises:
            ConfigError: for a listed model the file does not know.
        """
        known = self.all_deployments()
        names = self.models if self.models is not None else list(known)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ConfigError(str(self.deployments_path()), f"models {unknown} are not in the deployments file")
        grouped: dict[str, dict[str, ModelDeployment]] = defaultdict(dict)
        for name in names:
            grouped[known[name].provider][name] = known[name]
        return dict(grouped)

    def servings(self) -> dict[str, ServingConfig]:
        """Every known model's serving settings (checked; a bad one is a ConfigError)."""
        return load_serving_configs(self.all_deployments(), self.deployments_path())

    def cache_folder(self) -> Path:
        return Path(self.base_path) / CACHE_FOLDER

    def benchmarks_folder(self) -> Path:
        """The folder served at /benchmarks/, absolute (resolved against the working folder)."""
        return Path(self.benchmarks_path).absolute()


class ProviderSettings(BaseModel):
    """One provider deployment's replicas, CPUs and batching, from its models' settings."""

    autoscaling: AutoscalingConfig
    num_cpus: float
    batching: BatchingConfig | None


def provider_settings(servings: list[ServingConfig]) -> ProviderSettings:
    """The most generous of the models' settings: they share the provider's replicas."""
    autoscaling = AutoscalingConfig(
        min_replicas=max(s.autoscaling.min_replicas for s in servings),
        max_replicas=max(s.autoscaling.max_replicas for s in servings),
        target_ongoing_requests=min(s.autoscaling.target_ongoing_requests for s in servings),
    )
    batching = next((s.batching for s in servings if s.batching is not None), None)
    return ProviderSettings(autoscaling=autoscaling, num_cpus=max(s.num_cpus for s in servings), batching=batching)


def local_service(config: ProxyAppConfig, toxicity: Any = None) -> ProxyService:
    """The whole proxy in this process: the same services as on Ray, their shared objects called directly."""
    servings = config.servings()
    providers = {}
    streams: dict[str, ProviderStream] = {}
    answer_streams: dict[str, ProviderAnswers] = {}
    for provider, deployments in config.served().items():
        mine = {name: servings[name] for name in deployments}
        service = ProviderService(
            deployments,
            mine,
            SharedCacheFacade(LocalRemote(SharedCache(config.cache_folder(), provider))),
            RateLimitersFacade(LocalRemote(RateLimiters(provider, mine))),
        )
        providers[provider] = service.make_requests
        streams[provider] = service.stream_request
        answer_streams[provider] = service.stream_answers
    accounts = AccountsFacade(LocalRemote(Accounts(config.base_path)))
    return ProxyService(
        config.all_deployments(),
        servings,
        accounts,
        providers,  # type: ignore[arg-type]
        toxicity,
        limits=config.limits,
        streams=streams,
        answer_streams=answer_streams,
    )
