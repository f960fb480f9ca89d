"""`RunSpec`: everything that defines one run, as data. A run is reproducible from its RunSpec alone."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bench._object_spec import MetricSpec, ScenarioSpec
from bench.adaptation._adapter_spec import AdapterSpec
from bench.augmentation._data_augmenter_spec import DataAugmenterSpec


class RunSpec(BaseModel):
    """One run: a scenario, how to adapt it, which model, which metrics and which perturbations."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="unique run name, e.g. 'simple1:model=simple_model1'")
    scenario_spec: ScenarioSpec
    adapter_spec: AdapterSpec
    metric_specs: tuple[MetricSpec, ...] = ()
    data_augmenter_spec: DataAugmenterSpec = Field(default_factory=DataAugmenterSpec)
    groups: tuple[str, ...] = Field(default=(), description="scenario groups for presentation")
