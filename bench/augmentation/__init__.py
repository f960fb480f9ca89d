"""Data augmentation: perturbations registered by name, applied per instance, deterministically."""

from bench.augmentation._chain import PerturbationChain
from bench.augmentation._create import create_perturbation
from bench.augmentation._data_augmenter import DataAugmenter, augment_instances
from bench.augmentation._data_augmenter_spec import DataAugmenterSpec, PerturbationStep
from bench.augmentation._perturbation import PERTURBATIONS, Perturbation, perturbation
from bench.augmentation._presets import (
    DATA_AUGMENTATIONS,
    DataAugmentations,
    data_augmentation,
    eval_augmentation,
    get_data_augmentations,
    get_data_augmenter_spec,
)

__all__ = [
    "DATA_AUGMENTATIONS",
    "PERTURBATIONS",
    "DataAugmentations",
    "DataAugmenter",
    "DataAugmenterSpec",
    "Perturbation",
    "PerturbationChain",
    "PerturbationStep",
    "augment_instances",
    "create_perturbation",
    "data_augmentation",
    "eval_augmentation",
    "get_data_augmentations",
    "get_data_augmenter_spec",
    "perturbation",
]
