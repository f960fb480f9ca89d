"""The one place where built-in plug-ins are registered."""

from __future__ import annotations

import functools


@functools.cache
def load_builtins() -> None:
    """Register every built-in tokenizer, client, scenario, adapter, metric, perturbation and run entry."""
    from bench.adaptation import _builtins as adaptation
    from bench.augmentation import _builtins as augmentation
    from bench.metrics import _builtins as metrics
    from bench.models import _builtins as models
    from bench.run_specs import _builtins as run_specs
    from bench.scenarios import _builtins as scenarios
    from bench.tokenizers import _builtins as tokenizers

    for package in (tokenizers, models, scenarios, adaptation, metrics, augmentation, run_specs):
        package.load()
