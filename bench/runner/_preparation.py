"""Preparing a run: its instances loaded, its specs written, its shards planned and handed out.

This is the part of a run that needs every instance at once. On Ray it runs as a generator task on the driver's
node (where the scenario cache is), not in the driver: the driver's memory then does not grow with the run (it
holds object references, a plan and one summary per shard). `prepare_run` yields, in order:

1. a `Prepared` (the shard plan and how long loading took),
2. the train instances (one object, read by every shard),
3. each shard's evaluation instances, in plan order.

The plan is the stored one when the run is resumed (checked against the run's fingerprint: a stored plan
made from other instances or another run spec is refused), else a new one, stored before any shard runs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from bench._errors import ResumeError
from bench._instance import TRAIN_SPLIT, Instance
from bench._plugins import load_plugins
from bench.run_specs import RunSpec
from bench.runner._output import RUN_SPEC_FILE, SCENARIO_FILE, to_jsonable
from bench.runner._sharding import ShardPlan, fingerprint, plan_shards
from bench.runner._shards import PLAN_FILE, SHARDS_DIR
from bench.runner._steps import load_instances, scenario_info
from bench.runner._storage import Storage
from bench.scenarios import Scenario

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preparation:
    """What preparing a run needs: the run, where it is stored, and how to cut it."""

    run_spec: RunSpec
    scenario: Scenario
    """Made by the runner's process, whose registry knows every scenario (also one registered by the user's
    script)."""
    run_dir: str
    storage: Storage
    scenario_cache: str
    """Local folder of the scenarios' raw data (`<scenario_cache>/scenarios/`), on the runner's node."""
    slots: int
    """Shards that can run at once, for the default shard size."""
    shard_size: int | None = None
    num_shards: int | None = None
    plugins: tuple[str, ...] = ()
    """Plug-in modules the driver loaded (`--plugins`): imported here too, so their perturbations are known."""


class Prepared(BaseModel):
    """The first thing `prepare_run` yields."""

    plan: ShardPlan
    instances_seconds: float


def prepare_run(preparation: Preparation) -> Iterator[Any]:
    """Load, write specs, plan; yield the `Prepared`, the train instances, then each shard's slice.

    Raises:
        ScenarioDataError (and other MercuryErrors of loading), ResumeError, StorageError.
    """
    load_plugins(preparation.plugins)  # a fresh worker process has empty registries
    run_spec = preparation.run_spec
    started = time.perf_counter()
    scenario, instances = load_instances(run_spec, Path(preparation.scenario_cache) / "scenarios", preparation.scenario)
    seconds = time.perf_counter() - started
    write_specs(preparation.storage, preparation.run_dir, run_spec, scenario, instances)
    train = [instance for instance in instances if instance.split == TRAIN_SPLIT]
    evaluation = [instance for instance in instances if instance.split != TRAIN_SPLIT]
    plan = _plan(preparation, instances, evaluation)
    del instances
    yield Prepared(plan=plan, instances_seconds=seconds)
    yield train
    for shard in plan.shards:
        yield evaluation[shard.start : shard.end]


def write_specs(
    storage: Storage, run_dir: str, run_spec: RunSpec, scenario: Scenario, instances: list[Instance]
) -> None:
    """run_spec.json and scenario.json."""
    storage.write_json(f"{run_dir}/{RUN_SPEC_FILE}", to_jsonable(run_spec))
    storage.write_json(f"{run_dir}/{SCENARIO_FILE}", scenario_info(run_spec, scenario, instances))


def _plan(preparation: Preparation, instances: list[Instance], evaluation: list[Instance]) -> ShardPlan:
    """The stored plan when resuming (checked against the run's fingerprint), else a new one, stored.

    The fingerprint covers the run spec's JSON and every instance (see `bench.runner._sharding.fingerprint`),
    so a resume is checked without adapting.
    """
    run_spec, storage = preparation.run_spec, preparation.storage
    digest = fingerprint(json.dumps(to_jsonable(run_spec), sort_keys=True), instances)
    plan = plan_shards(
        evaluation,
        digest,
        shard_size=preparation.shard_size,
        num_shards=preparation.num_shards,
        slots=preparation.slots,
    )
    shards_dir = f"{preparation.run_dir}/{SHARDS_DIR}"
    plan_path = f"{shards_dir}/{PLAN_FILE}"
    if not storage.exists(plan_path):
        storage.write_json(plan_path, plan.model_dump(mode="json"))
        return plan
    try:
        stored = ShardPlan.model_validate(storage.read_json(plan_path))
    except ValidationError:
        raise ResumeError(
            run_spec.name, storage.location(shards_dir), "its plan.json is not a shard plan of this version"
        ) from None
    if (stored.fingerprint, stored.num_groups, stored.num_instances) != (
        plan.fingerprint,
        plan.num_groups,
        plan.num_instances,
    ):
        raise ResumeError(
            run_spec.name,
            storage.location(shards_dir),
            "its shards were made from other request states (the run spec or the scenario's instances changed)",
        )
    if stored != plan:
        logger.info("%s: resuming with the stored plan of %d shards", run_spec.name, len(stored.shards))
    return stored
