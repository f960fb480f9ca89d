"""HELM's JSON files of a run, as an export: scenario_state.json and per_instance_stats.json.

Mercury stores a run's request states and per-instance Stats as parquet tables (bench.runner._records), which
concatenate across shards and stream. Tools built for HELM's output folder read these two JSON files instead;
`benchmark-run --helm-json` writes them from the tables, so the same run is readable both ways.
"""

from __future__ import annotations

from bench.adaptation import ScenarioState
from bench.run_specs import RunSpec
from bench.runner._output import (
    PER_INSTANCE_STATS_FILE,
    PER_INSTANCE_STATS_PARQUET,
    REQUEST_STATES_PARQUET,
    SCENARIO_STATE_FILE,
    to_jsonable,
)
from bench.runner._records import read_per_instance, read_request_states
from bench.runner._storage import Storage


def export_helm_json(storage: Storage, run_dir: str, run_spec: RunSpec) -> None:
    """Write the run's scenario_state.json and per_instance_stats.json from its concatenated tables.

    The whole run is held in memory once, as HELM holds it: an export for runs of HELM's sizes.
    """
    states = read_request_states(storage.read_table(f"{run_dir}/{REQUEST_STATES_PARQUET}"))
    scenario_state = ScenarioState(adapter_spec=run_spec.adapter_spec, request_states=states)
    storage.write_json(f"{run_dir}/{SCENARIO_STATE_FILE}", to_jsonable(scenario_state))
    per_instance = read_per_instance(storage.read_table(f"{run_dir}/{PER_INSTANCE_STATS_PARQUET}"))
    storage.write_json(f"{run_dir}/{PER_INSTANCE_STATS_FILE}", to_jsonable(per_instance))
