"""Where a run's files go: `<output>/runs/<suite>/<run_name>/`, JSON readable the way HELM users expect.

`Storage` writes them (bench.runner._storage), atomically: an interrupted run never leaves a half-written file that
looks finished.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bench._stat import Stat

RUN_SPEC_FILE = "run_spec.json"
SCENARIO_FILE = "scenario.json"
SCENARIO_STATE_FILE = "scenario_state.json"
STATS_FILE = "stats.json"
PER_INSTANCE_STATS_FILE = "per_instance_stats.json"
RUN_INFO_FILE = "run_info.json"
ERROR_FILE = "error.json"
REQUEST_STATES_PARQUET = "request_states.parquet"
PER_INSTANCE_STATS_PARQUET = "per_instance_stats.parquet"


def run_path(suite: str, run_name: str) -> str:
    """A run's folder relative to the storage root (run names may hold '/', which becomes '_')."""
    return f"runs/{suite}/{run_name.replace('/', '_')}"


def run_dir(output_path: str | Path, suite: str, run_name: str) -> Path:
    """The folder of one run in a local output folder."""
    return Path(output_path) / run_path(suite, run_name)


def scenarios_dir(output_path: str | Path) -> Path:
    """Where scenarios download and cache their raw data (`<output>/scenarios/<scenario name>/`)."""
    return Path(output_path) / "scenarios"


DERIVED_STAT_FIELDS = ("mean", "variance", "stddev", "sample_stddev", "stderr", "ci95_low", "ci95_high")
"""What stats.json adds to a Stat's own fields: HELM's mean, variance and stddev (dividing by the count), then
Mercury's uncertainty of the mean (sample standard deviation, standard error, normal 95% interval; None below
two values)."""


def stat_to_json(stat: Stat) -> dict[str, Any]:
    """A Stat as HELM writes it (its fields plus mean, variance and stddev), plus its uncertainty."""
    data = stat.model_dump(mode="json", exclude_none=True)
    data.update(mean=stat.mean, variance=stat.variance, stddev=stat.stddev)
    interval = stat.ci95
    data.update(
        sample_stddev=stat.sample_stddev,
        stderr=stat.stderr,
        ci95_low=interval[0] if interval else None,
        ci95_high=interval[1] if interval else None,
    )
    return data


def stat_from_json(data: dict[str, Any]) -> Stat:
    """A Stat read back from `stat_to_json`'s form (the derived figures are dropped: they follow from the rest)."""
    return Stat.model_validate({k: v for k, v in data.items() if k not in DERIVED_STAT_FIELDS})


def to_jsonable(obj: Any) -> Any:
    """Pydantic models and lists of them as plain JSON data."""
    if isinstance(obj, Stat):
        return stat_to_json(obj)
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json", exclude_none=True)
    if isinstance(obj, list | tuple):
        return [to_jsonable(item) for item in obj]
    return obj
