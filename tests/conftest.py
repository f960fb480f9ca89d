"""Session-wide test setup: built-in plug-ins registered once, registries restored after each test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Ray in tests: no token auth (it would turn auth on for later `ray` CLI calls), no usage stats, and a
# single-node cluster kept on loopback. Set before anything imports Ray.
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

import bench


@pytest.fixture(scope="session", autouse=True)
def _builtins() -> None:
    bench.load_builtins()


@pytest.fixture
def restore_registries() -> Iterator[None]:
    """Use in a test that registers its own plug-ins: every registry is put back afterwards."""
    from bench.adaptation import ADAPTERS
    from bench.augmentation import DATA_AUGMENTATIONS, PERTURBATIONS
    from bench.metrics import METRICS
    from bench.models import CLIENTS
    from bench.run_specs import RUN_SPEC_FUNCTIONS
    from bench.scenarios import SCENARIOS
    from bench.tokenizers import TOKENIZERS

    registries: list[bench.Registry] = [
        ADAPTERS,
        METRICS,
        CLIENTS,
        RUN_SPEC_FUNCTIONS,
        SCENARIOS,
        TOKENIZERS,
        PERTURBATIONS,
        DATA_AUGMENTATIONS,
    ]
    snapshots = [r.snapshot() for r in registries]
    yield
    for registry, snapshot in zip(registries, snapshots):
        registry.restore(snapshot)
