"""The `Scenario` interface and its registry.

A scenario produces the instances of a task. `get_instances(output_path)` may download and cache raw data
under `output_path`; the generated scenarios of the embedded default need nothing from outside.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from bench._instance import Instance
from bench._registry import Registry

ScenarioFactory = Callable[..., "Scenario"]

SCENARIOS: Registry[ScenarioFactory] = Registry("scenario")


def scenario(name: str) -> Callable[[ScenarioFactory], ScenarioFactory]:
    """Register a scenario class under `name`; ScenarioSpec(name=..., args=...) builds it."""
    return SCENARIOS.register(name)


class Scenario(ABC):
    """A task: a name, a description, and instances (train, valid and test splits)."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    tags: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def get_instances(self, output_path: str) -> list[Instance]:
        """All instances of the scenario; raw data may be cached under `output_path`."""


def create_scenario(name: str, args: dict[str, Any]) -> Scenario:
    """Build the scenario registered as `name` with `args`."""
    return SCENARIOS.get(name)(**args)
