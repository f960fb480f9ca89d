"""`ObjectSpec`: a registered name plus arguments, so that every part of a run is described by JSON.

Names are resolved through registries (`bench.scenarios.SCENARIOS`, `bench.metrics.METRICS`, ...), never by
importing a dotted path taken from user input.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ObjectSpec(BaseModel):
    """A plug-in named in its registry, with the keyword arguments that build it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="name under which the plug-in is registered")
    args: dict[str, Any] = Field(default_factory=dict, description="keyword arguments for its constructor")

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.name, json.dumps(self.args, sort_keys=True, default=str)))

    def describe(self) -> str:
        """`name:k=v,k=v`, the form run entries use."""
        if not self.args:
            return self.name
        return self.name + ":" + ",".join(f"{k}={v}" for k, v in sorted(self.args.items()))


class ScenarioSpec(ObjectSpec):
    """Names a registered scenario and its arguments."""


class MetricSpec(ObjectSpec):
    """Names a registered metric and its arguments."""


class PerturbationSpec(ObjectSpec):
    """Names a registered perturbation and its arguments."""
