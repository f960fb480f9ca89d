"""The `Metric` interface and its registry.

A metric scores one instance at a time (`evaluate_instance`, on all request states of one instance and
train trial) and returns Stats. The runner merges those Stats per split and perturbation, then lets each
metric `derive` figures that only exist in aggregate (perplexity, equal-width ECE) from the merged Stats,
and `derive_samples` figures that need every instance's values (HELM's equal-mass ECE; see `_samples`).
Because every per-instance figure is a mergeable Stat, shards computed on different machines combine exactly.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bench._registry import Registry
from bench._stat import MetricName, Stat
from bench.adaptation._adapter_spec import AdapterSpec
from bench.adaptation._request_state import RequestState
from bench.metrics._samples import Samples
from bench.models._deployment import ModelDeployment
from bench.tokenizers._tokenizer import Tokenizer

MetricFactory = Callable[..., "Metric"]

METRICS: Registry[MetricFactory] = Registry("metric")


def metric(name: str) -> Callable[[MetricFactory], MetricFactory]:
    """Register a metric class (or factory) under `name`; MetricSpec(name=..., args=...) builds it."""
    return METRICS.register(name)


class ToxicityService(Protocol):
    """Scores texts for toxicity (the Perspective API, in-process or through the proxy's /api/toxicity)."""

    def score(self, texts: Sequence[str]) -> list[dict[str, float] | None]:
        """Per text, attribute name (TOXICITY, SEVERE_TOXICITY, ...) -> score in [0, 1]; None if it failed."""
        ...


@dataclass(frozen=True)
class MetricContext:
    """What a metric may consult besides the request states."""

    adapter_spec: AdapterSpec
    tokenizer: Tokenizer
    deployment: ModelDeployment
    toxicity: ToxicityService | None = None
    """None when no toxicity service is configured (no perspectiveApiKey): toxicity metrics then report that."""


class Metric(ABC):
    """Computes Stats for one instance; optionally derives aggregate-only Stats."""

    @abstractmethod
    def evaluate_instance(self, request_states: Sequence[RequestState], context: MetricContext) -> list[Stat]:
        """Stats for one (instance, train trial): all its request states, in adapter order.

        Names are plain (`MetricName(name=...)`); the runner adds split and perturbation.
        """

    def derive(self, stats: Mapping[str, Stat], context: MetricContext) -> list[Stat]:
        """Stats computed from merged per-instance Stats of one slice (keyed by plain metric name)."""
        return []

    def derive_samples(self, samples: Samples, context: MetricContext) -> list[Stat]:
        """Stats computed from one slice's per-instance samples (by kind, in canonical order; see `_samples`)."""
        return []


def create_metric(name: str, args: Mapping[str, Any]) -> Metric:
    """Build the metric registered as `name` with `args`."""
    return METRICS.get(name)(**args)


def plain(name: str, *values: float) -> Stat:
    """A Stat with a plain MetricName holding `values`."""
    return Stat.of(plain_name(name), *values)


@functools.lru_cache(maxsize=4096)
def plain_name(name: str) -> MetricName:
    """The plain MetricName of `name`, made once: frozen, so every Stat of a metric can share it (a run makes
    one per metric per instance)."""
    return MetricName(name=name)
