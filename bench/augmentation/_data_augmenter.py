"""`DataAugmenter`: turns a scenario's instances into originals plus perturbed copies, as a DataAugmenterSpec says.

Train instances (in-context examples) and eval instances follow separate switches. Output is grouped by
instance, in input order: an instance's original (if kept) first, then its copies in spec order, seed by seed.
Keeping an instance's variants together keeps them in one shard, and the order is the same on every run.
As in HELM, a copy counts as unchanged when its input is unchanged (references are not compared), and data
files a perturbation needs are fetched into the data folder before any instance is perturbed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench._instance import TRAIN_SPLIT, Instance
from bench.augmentation._create import create_perturbation
from bench.augmentation._data_augmenter_spec import DataAugmenterSpec
from bench.augmentation._data_files import DEFAULT_DATA_DIR
from bench.augmentation._perturbation import Perturbation

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _SplitPolicy:
    """The three switches that apply to one side (train or eval)."""

    augment: bool
    include_original: bool
    skip_unchanged: bool


class DataAugmenter:
    """Applies a DataAugmenterSpec to a list of instances.

    Args:
        data_dir: where perturbations keep the data files they download (`<output>/perturbations` in a run).
    """

    def __init__(self, data_dir: str | Path = DEFAULT_DATA_DIR) -> None:
        self.data_dir = Path(data_dir)

    def augment(self, instances: Sequence[Instance], spec: DataAugmenterSpec) -> list[Instance]:
        """Originals and perturbed copies of `instances`, following `spec`.

        Perturbed copies keep their instance's id, so metrics can group an instance with its variants.

        Args:
            instances: instances with ids (train and eval splits mixed, in any order).
            spec: which perturbations, and the train and eval switches.

        Returns:
            For each instance in order: itself unchanged when its side is not augmented; otherwise its
            original (if included) then one copy per perturbation entry and seed (minus unchanged copies if
            skipped).

        Raises:
            ValueError: if an instance to augment has no id, or a perturbation argument is bad.
            LookupError: if a perturbation name is unknown.
            ScenarioDataError: if a data file a perturbation needs cannot be downloaded or read.
        """
        perturbations = [create_perturbation(step) for step in spec.perturbation_specs]
        if spec.should_augment_train_instances or spec.should_augment_eval_instances:
            for perturbation in perturbations:
                perturbation.prepare(self.data_dir)
        train = _SplitPolicy(
            spec.should_augment_train_instances, spec.should_include_original_train, spec.should_skip_unchanged_train
        )
        evaluation = _SplitPolicy(
            spec.should_augment_eval_instances, spec.should_include_original_eval, spec.should_skip_unchanged_eval
        )
        result: list[Instance] = []
        for instance in instances:
            policy = train if instance.split == TRAIN_SPLIT else evaluation
            result.extend(_process(instance, policy, perturbations, spec.seeds_per_instance))
        if spec.perturbation_specs:
            logger.info("data augmentation: %d instances became %d", len(instances), len(result))
        return result


def augment_instances(
    instances: Sequence[Instance], spec: DataAugmenterSpec, data_dir: str | Path = DEFAULT_DATA_DIR
) -> list[Instance]:
    """`DataAugmenter(data_dir).augment(instances, spec)`."""
    return DataAugmenter(data_dir).augment(instances, spec)


def _process(
    instance: Instance, policy: _SplitPolicy, perturbations: Sequence[Perturbation], seeds: int
) -> list[Instance]:
    """The instances one instance becomes under `policy`."""
    if not policy.augment:
        return [instance]
    if instance.id is None:
        raise ValueError(f"cannot augment an instance without id (input {instance.input[:40]!r}); assign ids first")
    result = [instance] if policy.include_original else []
    for perturbation in perturbations:
        for seed in range(seeds):
            copy = perturbation.apply(instance, seed)
            if policy.skip_unchanged and _unchanged(copy, instance):
                continue
            result.append(copy)
    return result


def _unchanged(copy: Instance, original: Instance) -> bool:
    """HELM's test: the input is the same (a copy whose references alone changed is dropped too)."""
    return copy.input == original.input
