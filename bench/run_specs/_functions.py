"""The registry of run-spec functions: a run entry's name picks the function, its arguments fill it.

A run-spec function takes the entry's scenario arguments (typed, with defaults) and returns one RunSpec
whose adapter spec uses the placeholder model; the run-entry expander then fills in models, instance
counts, train trials and perturbations.
"""

from __future__ import annotations

from collections.abc import Callable

from bench._registry import Registry
from bench.run_specs._run_spec import RunSpec

RunSpecFunction = Callable[..., RunSpec]

RUN_SPEC_FUNCTIONS: Registry[RunSpecFunction] = Registry("scenario run entry")


def run_spec_function(name: str) -> Callable[[RunSpecFunction], RunSpecFunction]:
    """Register the run-spec function for run entries named `name` (e.g. `@run_spec_function("lpm")`)."""
    return RUN_SPEC_FUNCTIONS.register(name)
