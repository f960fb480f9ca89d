"""Where a run's files go: `<output>/runs/<suite>/<run_name>/`, JSON readable the way HELM users expect.

Files are written to a temporary name and renamed into place, so an interrupted run never leaves a
half-written file that looks finished.
"""

from __future__ import annotations

import json
import os
import tempfile
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


def run_dir(output_path: str | Path, suite: str, run_name: str) -> Path:
    """The folder of one run (run names may hold '/', which becomes '_')."""
    return Path(output_path) / "runs" / suite / run_name.replace("/", "_")


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


def write_json(path: Path, obj: Any) -> None:
    """Write `obj` as indented JSON to `path` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(to_jsonable(obj), f, indent=2, ensure_ascii=False)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> Any:
    """The JSON data in `path`."""
    with path.open(encoding="utf-8") as f:
        return json.load(f)
