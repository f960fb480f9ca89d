"""Running RunSpecs in-process: instances, adaptation, execution, metrics, files."""

from bench.runner._evaluation import PerInstanceStats, StatsAccumulator, group_request_states, score_instances
from bench.runner._executor import Executor
from bench.runner._instances import sample_eval_instances, with_ids
from bench.runner._output import (
    ERROR_FILE,
    PER_INSTANCE_STATS_FILE,
    RUN_INFO_FILE,
    RUN_SPEC_FILE,
    SCENARIO_FILE,
    SCENARIO_STATE_FILE,
    STATS_FILE,
    read_json,
    run_dir,
    write_json,
)
from bench.runner._runner import Runner, RunResult, RunTimings

__all__ = [
    "ERROR_FILE",
    "PER_INSTANCE_STATS_FILE",
    "RUN_INFO_FILE",
    "RUN_SPEC_FILE",
    "SCENARIO_FILE",
    "SCENARIO_STATE_FILE",
    "STATS_FILE",
    "Executor",
    "ModelService",
    "PerInstanceStats",
    "RunResult",
    "RunTimings",
    "Runner",
    "StatsAccumulator",
    "group_request_states",
    "read_json",
    "run_dir",
    "sample_eval_instances",
    "score_instances",
    "with_ids",
    "write_json",
]
