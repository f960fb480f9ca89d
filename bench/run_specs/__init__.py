"""RunSpecs, the run-spec functions that build them, and run entries that name them."""

from bench.run_specs._common import (
    PLACEHOLDER_MODEL,
    basic_metric_specs,
    exact_match_metric_specs,
    generation_adapter_spec,
    generation_metric_specs,
    language_modeling_adapter_spec,
    language_modeling_metric_specs,
    multiple_choice_adapter_spec,
    multiple_choice_metric_specs,
)
from bench.run_specs._functions import RUN_SPEC_FUNCTIONS, run_spec_function
from bench.run_specs._run_spec import RunSpec

__all__ = [
    "PLACEHOLDER_MODEL",
    "RUN_SPEC_FUNCTIONS",
    "RunSpec",
    "basic_metric_specs",
    "exact_match_metric_specs",
    "generation_adapter_spec",
    "generation_metric_specs",
    "language_modeling_adapter_spec",
    "language_modeling_metric_specs",
    "multiple_choice_adapter_spec",
    "multiple_choice_metric_specs",
    "run_spec_function",
]
