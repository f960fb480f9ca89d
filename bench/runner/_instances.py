"""Preparing a scenario's instances for a run: stable ids and HELM's fixed-seed evaluation subset."""

from __future__ import annotations

import numpy as np

from bench._instance import EVAL_SPLITS, TRAIN_SPLIT, Instance

EVAL_SUBSET_SEED = 0
"""Seed of the evaluation subset: the same for every run, so models are compared on the same instances."""


def with_ids(instances: list[Instance]) -> list[Instance]:
    """Give instances without an id the id `id<k>`, k counting in order (as HELM numbers them)."""
    return [
        instance if instance.id is not None else instance.model_copy(update={"id": f"id{k}"})
        for k, instance in enumerate(instances)
    ]


def sample_eval_instances(instances: list[Instance], max_eval_instances: int | None) -> list[Instance]:
    """Keep every train instance and the evaluation instances HELM 0.5.16 keeps for `max_eval_instances`.

    HELM (`runner.downsample_eval_instances`) seeds numpy's global generator with 0 and calls
    `np.random.choice(eval_instances, N, replace=False)` on the valid and test instances in scenario order;
    the chosen instances follow in the order numpy draws them (a permutation's first N, so a smaller subset
    is a prefix of a larger one). The same draw is made here with a private `RandomState(0)`, which yields
    the same numbers without touching numpy's global state, so a subsampled Mercury run scores exactly the
    instances a HELM run of the same scenario scores. As in HELM, instances of any other split are dropped
    when a limit is given, and nothing is sampled when the evaluation instances already fit.
    """
    if max_eval_instances is None:
        return instances
    train = [i for i in instances if i.split == TRAIN_SPLIT]
    evals = [i for i in instances if i.split in EVAL_SPLITS]
    if len(evals) <= max_eval_instances:
        return train + evals
    chosen = np.random.RandomState(EVAL_SUBSET_SEED).choice(len(evals), max_eval_instances, replace=False)
    return train + [evals[int(k)] for k in chosen]
