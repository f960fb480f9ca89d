"""RunSpecs, the run-spec functions that build them, and run entries that name them."""

from bench.run_specs._common import (
    PLACEHOLDER_MODEL,
    bare_adapter_spec,
    basic_metric_specs,
    exact_match_metric_specs,
    generation_adapter_spec,
    generation_metric_specs,
    language_modeling_adapter_spec,
    language_modeling_metric_specs,
    multiple_choice_adapter_spec,
    multiple_choice_metric_specs,
)
from bench.run_specs._conf import ConfEntry, read_run_specs_conf, suite_entries
from bench.run_specs._functions import DEFAULT_MODEL, RUN_SPEC_FUNCTIONS, default_model_of, run_spec_function
from bench.run_specs._run_entry import RESERVED_KEYS, RunEntry, expand_run_entries, expand_run_entry, parse_run_entry
from bench.run_specs._run_spec import RunSpec

__all__ = [
    "DEFAULT_MODEL",
    "PLACEHOLDER_MODEL",
    "RESERVED_KEYS",
    "RUN_SPEC_FUNCTIONS",
    "ConfEntry",
    "RunEntry",
    "RunSpec",
    "bare_adapter_spec",
    "basic_metric_specs",
    "default_model_of",
    "exact_match_metric_specs",
    "expand_run_entries",
    "expand_run_entry",
    "generation_adapter_spec",
    "generation_metric_specs",
    "language_modeling_adapter_spec",
    "language_modeling_metric_specs",
    "multiple_choice_adapter_spec",
    "multiple_choice_metric_specs",
    "parse_run_entry",
    "read_run_specs_conf",
    "run_spec_function",
    "suite_entries",
]
