"""Scenarios: tasks that produce instances (generated ones need no download)."""

from bench.scenarios._download import downloaded_files, ensure_file_downloaded
from bench.scenarios._dyck import DyckLanguageScenario
from bench.scenarios._generation import GeneratedScenario
from bench.scenarios._lpm import LPMDifficulty, LPMScenario
from bench.scenarios._numeracy import NumeracyMode, NumeracyRelationType, NumeracyScenario
from bench.scenarios._scenario import SCENARIOS, Scenario, create_scenario, scenario
from bench.scenarios._simple import Simple1Scenario
from bench.scenarios._synthetic_reasoning import SyntheticReasoningMode, SyntheticReasoningScenario

__all__ = [
    "SCENARIOS",
    "DyckLanguageScenario",
    "GeneratedScenario",
    "LPMDifficulty",
    "LPMScenario",
    "NumeracyMode",
    "NumeracyRelationType",
    "NumeracyScenario",
    "Scenario",
    "Simple1Scenario",
    "SyntheticReasoningMode",
    "SyntheticReasoningScenario",
    "create_scenario",
    "downloaded_files",
    "ensure_file_downloaded",
    "scenario",
]
