"""Scenarios: tasks that produce instances (generated ones need no download)."""

from bench.scenarios._scenario import SCENARIOS, Scenario, create_scenario, scenario

__all__ = ["SCENARIOS", "Scenario", "create_scenario", "scenario"]
