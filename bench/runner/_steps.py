"""The steps of a run that the pipeline, its shards and the dry run share.

Keeping them in one place means a RunSpec produces the same instances, requests and metrics whoever runs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench._instance import TRAIN_SPLIT, Instance
from bench._object_spec import MetricSpec
from bench._settings import settings
from bench.adaptation import RequestState, create_adapter
from bench.augmentation import augment_instances
from bench.metrics import Metric, MetricContext, ToxicityService, create_metric
from bench.models import get_deployment
from bench.run_specs import RunSpec
from bench.runner._instances import sample_eval_instances, with_ids
from bench.runner._storage import Storage
from bench.scenarios import Scenario, create_scenario
from bench.tokenizers import get_tokenizer

logger = logging.getLogger(__name__)

ProgressFactory = Callable[[str, int], Callable[[int], None]]
"""Given a description and a total, returns a callback advanced by a count (the CLI passes tqdm bars)."""


def scenario_cache_root(storage: Storage) -> Path:
    """Where scenarios keep their raw data for runs stored in `storage`: `<output folder>/scenarios/` (HELM's
    place), or `<Mercury's cache folder>/scenarios/` when the output is on S3."""
    local = storage.local_path()
    return Path(local) if local is not None else settings().cache_dir


def load_instances(
    run_spec: RunSpec, cache_root: str | Path, scenario: Scenario | None = None
) -> tuple[Scenario, list[Instance]]:
    """The scenario and the run's instances: ids, the fixed-seed evaluation subset, then perturbations.

    Args:
        cache_root: raw data goes to `<cache_root>/<scenario name>/`; data files of perturbations to
            `<cache_root>/../perturbations/` (HELM's `<output>/perturbations/` when the cache root is
            `<output>/scenarios`).
        scenario: the run's scenario if already made (by a process whose registry knows it), else made here.
    """
    if scenario is None:
        scenario = create_scenario(run_spec.scenario_spec.name, run_spec.scenario_spec.args)
    cache = Path(cache_root) / run_spec.scenario_spec.name
    instances = with_ids(scenario.get_instances(str(cache)))
    instances = sample_eval_instances(instances, run_spec.adapter_spec.max_eval_instances)
    perturbation_data = Path(cache_root).parent / "perturbations"
    return scenario, augment_instances(instances, run_spec.data_augmenter_spec, perturbation_data)


def scenario_info(run_spec: RunSpec, scenario: Scenario, instances: list[Instance]) -> dict[str, Any]:
    """What a run's scenario.json says: the scenario, its arguments and the run's instances per split."""
    splits: dict[str, int] = {}
    for instance in instances:
        splits[instance.split] = splits.get(instance.split, 0) + 1
    return {
        "name": run_spec.scenario_spec.name,
        "description": scenario.description,
        "tags": list(scenario.tags),
        "args": run_spec.scenario_spec.args,
        "num_instances": splits,
    }


def adapt(run_spec: RunSpec, instances: list[Instance]) -> list[RequestState]:
    """Request states for the run's model, fitted to its context window with its own tokenizer."""
    deployment = get_deployment(run_spec.adapter_spec.model)
    adapter = create_adapter(run_spec.adapter_spec, get_tokenizer(deployment.tokenizer), deployment.context_window)
    request_states = adapter.adapt(instances)
    num_eval = sum(1 for i in instances if i.split != TRAIN_SPLIT)
    logger.info("%s: %d evaluation instances, %d requests", run_spec.name, num_eval, len(request_states))
    return request_states


def metric_context(run_spec: RunSpec, toxicity: ToxicityService | None = None) -> MetricContext:
    """What the run's metrics may consult: its adapter spec, its model's tokenizer and deployment."""
    deployment = get_deployment(run_spec.adapter_spec.model)
    return MetricContext(
        adapter_spec=run_spec.adapter_spec,
        tokenizer=get_tokenizer(deployment.tokenizer),
        deployment=deployment,
        toxicity=toxicity,
    )


def create_metrics(specs: Sequence[MetricSpec]) -> list[Metric]:
    """The metrics named by `specs`."""
    return [create_metric(spec.name, spec.args) for spec in specs]
