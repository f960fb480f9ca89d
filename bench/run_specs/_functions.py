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

DEFAULT_MODEL = "openai/davinci"
"""The model of an entry that names none when no -m/--model is given: the original benchmark's default, so its
README's examples (`benchmark-run -r mmlu:subject=philosophy --dry-run`) still run as written."""

_DEFAULT_MODELS: dict[str, str] = {}


def run_spec_function(name: str, *, default_model: str = DEFAULT_MODEL) -> Callable[[RunSpecFunction], RunSpecFunction]:
    """Register the run-spec function for run entries named `name` (e.g. `@run_spec_function("lpm")`).

    Args:
        name: the run entry's name.
        default_model: the model of an entry that names none when no -m/--model is given.
    """
    register = RUN_SPEC_FUNCTIONS.register(name)

    def decorator(function: RunSpecFunction) -> RunSpecFunction:
        registered = register(function)
        _DEFAULT_MODELS[name] = default_model
        return registered

    return decorator


def default_model_of(name: str) -> str:
    """The model an entry named `name` runs on when neither the entry nor -m/--model names one."""
    return _DEFAULT_MODELS.get(name, DEFAULT_MODEL)
