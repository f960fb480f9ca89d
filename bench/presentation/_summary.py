"""Reading the runs of a suite (only those that changed) and building the suite's views from them.

A run is complete when its stats.json exists; the size and modification time of that file identify the
version of the run the presentation read. Runs whose stats.json is unchanged since the last presentation are
taken from the previous summary, so presenting a suite again after one more run reads one run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from bench.presentation._comparison import paired_comparison
from bench.presentation._model import (
    Cell,
    GroupTable,
    ModelRow,
    PairedComparison,
    RunSummary,
    SuiteStatus,
    SuiteSummary,
)
from bench.presentation._run_reader import RunData, RunReadError, read_run, run_slug
from bench.runner import FileInfo, Storage, storage_path

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedRun:
    """A run as the last presentation saw it: the stats.json it read and the summary it made."""

    size: int
    mtime: float
    summary: RunSummary


@dataclass
class RunCollection:
    """The complete runs of a suite: summaries of all, full data of those read now."""

    summaries: list[RunSummary] = field(default_factory=list)
    read: list[RunData] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    infos: dict[str, FileInfo] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def complete_runs(storage: Storage, suite: str) -> dict[str, FileInfo]:
    """Run folder -> its stats.json's size and time, for every complete run of `suite`."""
    runs = {}
    for run_dir in storage.entries(storage_path("runs", suite)):
        info = storage.info(storage_path("runs", suite, run_dir, "stats.json"))
        if info is not None:
            runs[run_dir] = info
    return runs


def collect_runs(storage: Storage, suite: str, previous: Mapping[str, CachedRun]) -> RunCollection:
    """Summaries of every complete run, reading only runs that are new or whose stats.json changed.

    A run that cannot be read is left out and named in `problems` (one bad folder does not hide the rest).
    """
    collection = RunCollection()
    for run_dir, info in complete_runs(storage, suite).items():
        cached = previous.get(run_dir)
        if cached is not None and cached.size == info.size and cached.mtime == info.mtime:
            collection.summaries.append(cached.summary)
            collection.reused.append(run_dir)
            collection.infos[run_dir] = info
            continue
        try:
            data = read_run(storage, suite, run_dir)
        except RunReadError as e:
            logger.warning("%s", e)
            collection.problems.append(str(e))
            continue
        collection.summaries.append(data.summary)
        collection.read.append(data)
        collection.infos[run_dir] = info
    return collection


def build_groups(runs: list[RunSummary]) -> list[GroupTable]:
    """One table per scenario group: models as rows, each scenario variant's main metric as a column."""
    by_group: dict[str, list[RunSummary]] = {}
    for run in runs:
        by_group.setdefault(run.group, []).append(run)
    tables = []
    for name in sorted(by_group):
        group_runs = by_group[name]
        columns = sorted({r.column for r in group_runs})
        models = sorted({r.model for r in group_runs})
        index = {(r.model, r.column): r for r in group_runs}
        first = {c: next(r for r in group_runs if r.column == c) for c in columns}
        tables.append(
            GroupTable(
                name=name,
                slug=run_slug(name),
                columns=columns,
                metrics=[first[c].main_metric or "-" for c in columns],
                lower_is_better=[first[c].lower_is_better for c in columns],
                models=models,
                cells=[[_cell(index.get((m, c))) for c in columns] for m in models],
                comparisons=_comparisons(columns, models, index),
            )
        )
    return tables


def _cell(run: RunSummary | None) -> Cell:
    if run is None:
        return Cell()
    return Cell(
        value=run.main_value,
        run_slug=run.slug,
        stderr=run.main_stderr,
        ci_low=run.main_ci_low,
        ci_high=run.main_ci_high,
        failed=run.num_failed_requests,
    )


def _comparisons(
    columns: list[str], models: list[str], index: Mapping[tuple[str, str], RunSummary]
) -> list[PairedComparison]:
    """Each pair of models (in name order) on each column where both have a run with per-instance values."""
    found = []
    for column in columns:
        for i, model_a in enumerate(models):
            for model_b in models[i + 1 :]:
                a, b = index.get((model_a, column)), index.get((model_b, column))
                if a is None or b is None or a.main_metric != b.main_metric:
                    continue
                comparison = paired_comparison(column, model_a, a.main_values, model_b, b.main_values)
                if comparison is not None:
                    found.append(comparison)
    return found


def win_rates(groups: list[GroupTable]) -> dict[str, float]:
    """HELM's mean win rate: per column, the share of other models a model beats (ties half); averaged over
    the columns where it has a value and at least one other model does too."""
    wins: dict[str, list[float]] = {}
    for table in groups:
        for c, lower in enumerate(table.lower_is_better):
            values = {m: table.cells[i][c].value for i, m in enumerate(table.models)}
            present = {m: v for m, v in values.items() if v is not None}
            if len(present) < 2:
                continue
            for model, value in present.items():
                others = [v for m, v in present.items() if m != model]
                beaten = sum(1.0 if (v > value if lower else v < value) else 0.5 if v == value else 0.0 for v in others)
                wins.setdefault(model, []).append(beaten / len(others))
    return {model: sum(rates) / len(rates) for model, rates in wins.items()}


def group_means(groups: list[GroupTable]) -> dict[str, dict[str, float | None]]:
    """Group -> model -> mean of the higher-is-better main metrics of the group's columns (None: none of them):
    the leaderboard's group columns. A lower-is-better figure (bits per byte, perplexity) does not average with
    accuracies, so a group of only such columns has no mean."""
    means: dict[str, dict[str, float | None]] = {}
    for g in groups:
        means[g.name] = {}
        for i, model in enumerate(g.models):
            values = [c.value for c, lower in zip(g.cells[i], g.lower_is_better) if c.value is not None and not lower]
            means[g.name][model] = sum(values) / len(values) if values else None
    return means


def build_models(runs: list[RunSummary], groups: list[GroupTable]) -> list[ModelRow]:
    """The leaderboard: one row per model, best mean win rate first.

    A model's mean main metric is the mean of its group columns (`group_means`), the figures the leaderboard shows
    beside it, so each group counts once however many scenario variants it has; `main_groups` says how many
    groups it averages (a model without a run in a group is averaged over fewer).
    """
    rates = win_rates(groups)
    rows: dict[str, ModelRow] = {}
    for run in runs:
        row = rows.setdefault(run.model, ModelRow(model=run.model, cost=0.0))
        row.num_runs += 1
        row.num_instances += run.num_instances
        row.prompt_tokens += run.prompt_tokens
        row.completion_tokens += run.completion_tokens
        row.inference_runtime += run.inference_runtime
        row.failed_requests += run.num_failed_requests
        row.cost = None if run.cost is None or row.cost is None else row.cost + run.cost
    by_group = group_means(groups)
    for model, row in rows.items():
        row.mean_win_rate = rates.get(model)
        values = [v for means in by_group.values() if (v := means.get(model)) is not None]
        row.mean_main = sum(values) / len(values) if values else None
        row.main_groups = len(values)
    return sorted(rows.values(), key=lambda r: (-(r.mean_win_rate or -1), -(r.mean_main or -1), r.model))


def build_suite_summary(
    suite: str, source: str, runs: list[RunSummary], status: SuiteStatus | None = None
) -> SuiteSummary:
    """The views of a suite from its runs' summaries."""
    runs = sorted(runs, key=lambda r: (r.group, r.column, r.model))
    groups = build_groups(runs)
    return SuiteSummary(
        suite=suite,
        source=source,
        generated_at=time.time(),
        runs=runs,
        groups=groups,
        models=build_models(runs, groups),
        status=status,
    )
