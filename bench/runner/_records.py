"""How a run's results are stored: parquet tables for request states and per-instance Stats, JSON for the rest.

Both tables have a fixed schema so that shards written on different machines concatenate into one file.
Each table keeps flat columns for querying (instance, split, perturbation, success, ...) and one column that
holds the full record as JSON, so reading a table back loses nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import pyarrow as pa

from bench import PerturbationDescription, Stat
from bench.adaptation import RequestState
from bench.runner._evaluation import PerInstanceStats, StatsAccumulator

REQUEST_STATES_SCHEMA = pa.schema(
    [
        pa.field("instance_id", pa.string()),
        pa.field("train_trial_index", pa.int64()),
        pa.field("split", pa.string()),
        pa.field("sub_split", pa.string()),
        pa.field("perturbation", pa.string()),
        pa.field("reference_index", pa.int64()),
        pa.field("request_mode", pa.string()),
        pa.field("model", pa.string()),
        pa.field("prompt", pa.string()),
        pa.field("success", pa.bool_()),
        pa.field("cached", pa.bool_()),
        pa.field("error", pa.string()),
        pa.field("completion", pa.string()),
        pa.field("request_time", pa.float64()),
        pa.field("request_state", pa.string()),
    ]
)
"""One row per request; `request_state` is the whole RequestState (request and result) as JSON."""

STAT_TYPE = pa.struct(
    [
        pa.field("name", pa.string()),
        pa.field("count", pa.int64()),
        pa.field("sum", pa.float64()),
        pa.field("sum_squared", pa.float64()),
        pa.field("min", pa.float64()),
        pa.field("max", pa.float64()),
    ]
)

PER_INSTANCE_STATS_SCHEMA = pa.schema(
    [
        pa.field("instance_id", pa.string()),
        pa.field("train_trial_index", pa.int64()),
        pa.field("split", pa.string()),
        pa.field("sub_split", pa.string()),
        pa.field("perturbation", pa.string()),
        pa.field("perturbation_json", pa.string()),
        pa.field("stats", pa.list_(STAT_TYPE)),
    ]
)
"""One row per (instance, perturbation, train trial), as HELM's per_instance_stats; Stats keep plain names."""


def request_states_table(states: Sequence[RequestState]) -> pa.Table:
    """The request states as a table with `REQUEST_STATES_SCHEMA`."""
    rows = []
    for state in states:
        result = state.result
        rows.append(
            {
                "instance_id": state.instance.id,
                "train_trial_index": state.train_trial_index,
                "split": state.instance.split,
                "sub_split": state.instance.sub_split,
                "perturbation": state.instance.perturbation.name if state.instance.perturbation else None,
                "reference_index": state.reference_index,
                "request_mode": state.request_mode,
                "model": state.request.model,
                "prompt": state.request.prompt,
                "success": None if result is None else result.success,
                "cached": None if result is None else result.cached,
                "error": None if result is None else result.error,
                "completion": result.completions[0].text if result is not None and result.completions else None,
                "request_time": None if result is None else result.request_time,
                "request_state": state.model_dump_json(exclude_none=True),
            }
        )
    return pa.Table.from_pylist(rows, schema=REQUEST_STATES_SCHEMA)


def read_request_states(table: pa.Table) -> list[RequestState]:
    """The request states stored in a table written by `request_states_table`."""
    return [RequestState.model_validate_json(text) for text in table.column("request_state").to_pylist()]


def per_instance_table(items: Iterable[PerInstanceStats]) -> pa.Table:
    """Per-instance Stats as a table with `PER_INSTANCE_STATS_SCHEMA`."""
    rows = [
        {
            "instance_id": item.instance_id,
            "train_trial_index": item.train_trial_index,
            "split": item.split,
            "sub_split": item.sub_split,
            "perturbation": item.perturbation.name if item.perturbation else None,
            "perturbation_json": item.perturbation.model_dump_json() if item.perturbation else None,
            "stats": [
                {
                    "name": stat.name.name,
                    "count": stat.count,
                    "sum": stat.sum,
                    "sum_squared": stat.sum_squared,
                    "min": stat.min,
                    "max": stat.max,
                }
                for stat in item.stats
            ],
        }
        for item in items
    ]
    return pa.Table.from_pylist(rows, schema=PER_INSTANCE_STATS_SCHEMA)


def read_per_instance(table: pa.Table) -> list[PerInstanceStats]:
    """The per-instance Stats stored in a table written by `per_instance_table`."""
    out = []
    for row in table.to_pylist():
        perturbation = row["perturbation_json"]
        out.append(
            PerInstanceStats(
                instance_id=row["instance_id"],
                train_trial_index=row["train_trial_index"],
                split=row["split"],
                sub_split=row["sub_split"],
                perturbation=PerturbationDescription.model_validate_json(perturbation) if perturbation else None,
                stats=[Stat.model_validate({**s, "name": {"name": s["name"]}}) for s in row["stats"]],
            )
        )
    return out


def fold_per_instance(table: pa.Table, accumulator: StatsAccumulator, trial: int) -> set[int]:
    """Fold the per-instance Stats of train trial `trial` in `table` (written by `per_instance_table`) into
    `accumulator`, row by row in order; returns the other trials the table holds.

    The same merges in the same order as `accumulator.add(read_per_instance(table))`, so the same figures to the
    last bit, but from the table's columns: no Stat per row, which made folding a large run's tables slow.
    """
    stats = table.column("stats").combine_chunks()
    offsets = stats.offsets.to_pylist()
    values = stats.flatten()
    names, counts, sums, squares, lows, highs = (
        values.field(field).to_pylist() for field in ("name", "count", "sum", "sum_squared", "min", "max")
    )
    perturbations: dict[str, PerturbationDescription] = {}
    others: set[int] = set()
    base = offsets[0]  # a slice of a table keeps its parent's offsets
    rows = zip(
        table.column("train_trial_index").to_pylist(),
        table.column("split").to_pylist(),
        table.column("sub_split").to_pylist(),
        table.column("perturbation_json").to_pylist(),
        itertools.pairwise(offsets),
    )
    for row_trial, split, sub_split, perturbation_json, (start, end) in rows:
        if row_trial != trial:
            others.add(row_trial)
            continue
        perturbation = None
        if perturbation_json:
            if perturbation_json not in perturbations:
                perturbations[perturbation_json] = PerturbationDescription.model_validate_json(perturbation_json)
            perturbation = perturbations[perturbation_json]
        figures = (
            (names[j], (counts[j], sums[j], squares[j], lows[j], highs[j])) for j in range(start - base, end - base)
        )
        accumulator.add_row(split, sub_split, perturbation, figures)
    return others
