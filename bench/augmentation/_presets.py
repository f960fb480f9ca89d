"""Named data augmentations that run entries select with `data_augmentation=NAME`.

Every preset perturbs evaluation instances only and keeps the originals, like HELM, so a single run yields
both the plain metrics and the perturbed ones; copies a perturbation left unchanged are skipped, since they
would only repeat the original. Perturbation args are written out in full, so a RunSpec shows every value.
"""

from __future__ import annotations

from collections.abc import Callable

from bench._object_spec import PerturbationSpec
from bench._registry import Registry
from bench.augmentation._create import create_perturbation
from bench.augmentation._data_augmenter_spec import DataAugmenterSpec, PerturbationStep
from bench.augmentation._perturbation import PERTURBATIONS

DataAugmentationFunction = Callable[[], DataAugmenterSpec]

DATA_AUGMENTATIONS: Registry[DataAugmentationFunction] = Registry("data augmentation")


def data_augmentation(name: str) -> Callable[[DataAugmentationFunction], DataAugmentationFunction]:
    """Register a zero-argument function returning a DataAugmenterSpec under `name`."""
    return DATA_AUGMENTATIONS.register(name)


def get_data_augmenter_spec(name: str) -> DataAugmenterSpec:
    """The DataAugmenterSpec of the preset `name`.

    Raises:
        LookupError: for an unknown name, with the nearest known names.
    """
    return DATA_AUGMENTATIONS.get(name)()


def eval_augmentation(*steps: PerturbationStep) -> DataAugmenterSpec:
    """A spec that perturbs eval instances with `steps`, keeping originals and skipping unchanged copies."""
    return DataAugmenterSpec(
        perturbation_specs=steps,
        should_augment_eval_instances=True,
        should_include_original_eval=True,
        should_skip_unchanged_eval=True,
    )


def default_step(name: str, *chained: str) -> PerturbationStep:
    """The spec of perturbation `name` with its default args written out; with `chained` names, a chain."""
    return create_perturbation(PerturbationSpec(name=name) if not chained else _names(name, *chained)).to_spec()


def _names(*names: str) -> tuple[PerturbationSpec, ...]:
    return tuple(PerturbationSpec(name=n) for n in names)


def _robustness_steps() -> tuple[PerturbationStep, ...]:
    names = ("typos", "extra_space", "lowercase", "contraction", "filler_words")
    return (*(default_step(n) for n in names), default_step("lowercase", "typos"))


def _fairness_steps() -> tuple[PerturbationStep, ...]:
    return (default_step("gender"), default_step("dialect"))


@data_augmentation("robustness")
def robustness() -> DataAugmenterSpec:
    """Typos, extra spaces, lower case, contractions, filler words, and lower case with typos."""
    return eval_augmentation(*_robustness_steps())


@data_augmentation("fairness")
def fairness() -> DataAugmenterSpec:
    """Male to female pronouns, and SAE to AAE."""
    return eval_augmentation(*_fairness_steps())


@data_augmentation("canonical")
def canonical() -> DataAugmenterSpec:
    """The robustness and the fairness perturbations."""
    return eval_augmentation(*_robustness_steps(), *_fairness_steps())


@data_augmentation("all")
def all_perturbations() -> DataAugmenterSpec:
    """Every registered perturbation (at call time), each with its default args, in name order."""
    return eval_augmentation(*(default_step(name) for name in PERTURBATIONS.names()))


def register_perturbation_presets() -> None:
    """Register one preset per registered perturbation, named after it (e.g. "typos"), with default args."""
    for name in PERTURBATIONS.names():
        if name not in DATA_AUGMENTATIONS:
            DATA_AUGMENTATIONS.add(name, _single(name))


def _single(name: str) -> DataAugmentationFunction:
    def preset() -> DataAugmenterSpec:
        return eval_augmentation(default_step(name))

    preset.__doc__ = f"The {name!r} perturbation with its default args."
    return preset
