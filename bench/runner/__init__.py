"""Running RunSpecs in-process: instances, adaptation, execution, metrics, files."""

from bench.runner._evaluation import PerInstanceStats, StatsAccumulator, group_request_states, score_instances
from bench.runner._executor import Executor
from bench.runner._instances import sample_eval_instances, with_ids
from bench.runner._output import (
    ERROR_FILE,
    PER_INSTANCE_STATS_FILE,
    PER_INSTANCE_STATS_PARQUET,
    REQUEST_STATES_PARQUET,
    RUN_INFO_FILE,
    RUN_SPEC_FILE,
    SCENARIO_FILE,
    SCENARIO_STATE_FILE,
    STATS_FILE,
    read_json,
    run_dir,
    scenarios_dir,
    stat_from_json,
    stat_to_json,
    to_jsonable,
    write_json,
)
from bench.runner._records import (
    PER_INSTANCE_STATS_SCHEMA,
    REQUEST_STATES_SCHEMA,
    per_instance_table,
    read_per_instance,
    read_request_states,
    request_states_table,
)
from bench.runner._runner import Runner, RunResult, RunTimings
from bench.runner._steps import ProgressFactory, adapt, create_metrics, load_instances, metric_context

__all__ = [
    "ERROR_FILE",
    "PER_INSTANCE_STATS_FILE",
    "PER_INSTANCE_STATS_PARQUET",
    "PER_INSTANCE_STATS_SCHEMA",
    "REQUEST_STATES_PARQUET",
    "REQUEST_STATES_SCHEMA",
    "RUN_INFO_FILE",
    "RUN_SPEC_FILE",
    "SCENARIO_FILE",
    "SCENARIO_STATE_FILE",
    "STATS_FILE",
    "Executor",
    "ModelService",
    "PerInstanceStats",
    "ProgressFactory",
    "RunResult",
    "RunTimings",
    "Runner",
    "StatsAccumulator",
    "adapt",
    "create_metrics",
    "group_request_states",
    "load_instances",
    "metric_context",
    "per_instance_table",
    "read_json",
    "read_per_instance",
    "read_request_states",
    "request_states_table",
    "run_dir",
    "sample_eval_instances",
    "scenarios_dir",
    "score_instances",
    "stat_from_json",
    "stat_to_json",
    "to_jsonable",
    "with_ids",
    "write_json",
]
