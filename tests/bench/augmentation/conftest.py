"""Fixtures for the augmentation tests: the perturbation and preset registries restored after a test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bench.augmentation import DATA_AUGMENTATIONS, PERTURBATIONS


@pytest.fixture
def restore_augmentation_registries() -> Iterator[None]:
    """Use in a test that registers its own perturbations or presets."""
    perturbations, presets = PERTURBATIONS.snapshot(), DATA_AUGMENTATIONS.snapshot()
    yield
    PERTURBATIONS.restore(perturbations)
    DATA_AUGMENTATIONS.restore(presets)
