"""Data augmentation: perturbations registered by name, applied per instance, deterministically."""

from bench.augmentation._data_augmenter_spec import DataAugmenterSpec, PerturbationStep

__all__ = ["DataAugmenterSpec", "PerturbationStep"]
