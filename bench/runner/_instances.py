"""Preparing a scenario's instances for a run: stable ids and the fixed-seed evaluation subset."""

from __future__ import annotations

import random

from bench._instance import TRAIN_SPLIT, Instance

EVAL_SUBSET_SEED = 0
"""Seed of the evaluation subset: the same for every run, so models are compared on the same instances."""


def with_ids(instances: list[Instance]) -> list[Instance]:
    """Give instances without an id the id `id<k>`, k counting in order (as HELM numbers them)."""
    return [
        instance if instance.id is not None else instance.model_copy(update={"id": f"id{k}"})
        for k, instance in enumerate(instances)
    ]


def sample_eval_instances(instances: list[Instance], max_eval_instances: int | None) -> list[Instance]:
    """Keep every train instance and a fixed-seed subset of at most `max_eval_instances` others.

    The subset is drawn once with `EVAL_SUBSET_SEED` from the evaluation instances in their original order,
    then put back in that order, so that a smaller subset is not a reordering of a larger one's prefix but
    is stable for a given size.
    """
    train = [i for i in instances if i.split == TRAIN_SPLIT]
    evals = [i for i in instances if i.split != TRAIN_SPLIT]
    if max_eval_instances is None or len(evals) <= max_eval_instances:
        return train + evals
    chosen = sorted(random.Random(EVAL_SUBSET_SEED).sample(range(len(evals)), max_eval_instances))
    return train + [evals[k] for k in chosen]
