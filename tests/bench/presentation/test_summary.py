"""The suite's views: group tables, win rates, the leaderboard, and reading only the runs that changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.presentation import (
    Cell,
    GroupTable,
    RunSummary,
    build_groups,
    build_models,
    build_suite_summary,
    collect_runs,
    win_rates,
)
from bench.presentation._summary import CachedRun
from bench.runner import Storage
from tests.bench.presentation.runs_fixture import Item, write_run


class CountingStorage(Storage):
    """A local folder that records which files were read."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.reads: list[str] = []

    def read_bytes(self, path: str) -> bytes:  # read_text reads through it too
        self.reads.append(path)
        return super().read_bytes(path)


def _run(
    model: str, column: str, value: float | None, *, group: str = "g", lower: bool = False, **kw: float | None
) -> RunSummary:
    name = f"{column}:model={model}"
    return RunSummary(dir=name, slug=name.replace(":", "_"), name=name, model=model, scenario=column, column=column,
                      group=group, main_metric="m", main_value=value, lower_is_better=lower, **kw)  # fmt: skip


def test_group_table_has_models_as_rows_and_scenarios_as_columns() -> None:
    runs = [_run("A", "s1", 0.9), _run("B", "s1", 0.4), _run("A", "s2", 0.1), _run("A", "t", 0.3, group="h")]
    g, h = build_groups(runs)
    assert (g.name, g.columns, g.models) == ("g", ["s1", "s2"], ["A", "B"])
    assert [[c.value for c in row] for row in g.cells] == [[0.9, 0.1], [0.4, None]]
    assert g.cells[0][0].run_slug == "s1_model=A" and g.cells[1][1].run_slug is None
    assert (h.name, h.columns, h.models) == ("h", ["t"], ["A"])


def test_win_rate_counts_ties_as_half_and_respects_lower_is_better() -> None:
    table = GroupTable(
        name="g",
        slug="g",
        columns=["acc", "ppl"],
        metrics=["exact_match", "perplexity"],
        lower_is_better=[False, True],
        models=["A", "B", "C"],
        cells=[[Cell(value=1.0), Cell(value=2.0)], [Cell(value=0.5), Cell(value=1.0)], [Cell(value=0.5), Cell()]],
    )
    # acc: A beats B and C (1), B ties C and loses to A (0.25), C likewise; ppl: B (lower) beats A
    assert win_rates([table]) == {"A": 0.5, "B": 0.625, "C": 0.25}


def test_leaderboard_sums_tokens_and_cost_and_orders_by_win_rate() -> None:
    runs = [
        _run("A", "s1", 0.2, prompt_tokens=100, completion_tokens=10, cost=0.5, num_instances=4),
        _run("A", "s2", 0.4, prompt_tokens=50, completion_tokens=5, cost=0.25, num_instances=2),
        _run("B", "s1", 0.9, prompt_tokens=10, completion_tokens=1, cost=None),
    ]
    b, a = build_models(runs, build_groups(runs))
    assert (b.model, b.mean_win_rate, b.cost) == ("B", 1.0, None)  # a model without prices has no cost
    assert (a.model, a.mean_win_rate, a.num_runs, a.num_instances) == ("A", 0.0, 2, 6)
    assert (a.prompt_tokens, a.completion_tokens, a.cost) == (150, 15, 0.75)
    assert a.mean_main == pytest.approx(0.3)


def test_suite_summary_round_trips_through_json() -> None:
    summary = build_suite_summary("demo", "/results", [_run("A", "s1", 0.5)])
    again = type(summary).model_validate_json(summary.model_dump_json())
    assert again == summary and again.groups[0].models == ["A"]


def test_only_new_or_changed_runs_are_read(tmp_path: Path) -> None:
    first = write_run(tmp_path, "s", "simple1", "simple/model1", [Item("id0", 1.0)])
    write_run(tmp_path, "s", "lpm:difficulty=easy", "simple/model1", [Item("id0", 0.0)])
    storage = CountingStorage(tmp_path)
    collection = collect_runs(storage, "s", {})
    assert len(collection.read) == 2 and collection.reused == []
    previous = {
        s.dir: CachedRun(size=collection.infos[s.dir].size, mtime=collection.infos[s.dir].mtime, summary=s)
        for s in collection.summaries
    }

    storage.reads.clear()
    again = collect_runs(storage, "s", previous)
    assert storage.reads == [] and sorted(again.reused) == sorted(previous)

    write_run(tmp_path, "s", "simple1", "simple/model1", [Item("id0", 0.0), Item("id1", 0.0)])  # run again
    os.utime(first / "stats.json", (1, 1))  # a different time even on a coarse clock
    storage.reads.clear()
    third = collect_runs(storage, "s", previous)
    assert [d.summary.dir for d in third.read] == [first.name]
    assert {p.split("/")[2] for p in storage.reads} == {first.name}
    assert next(s for s in third.summaries if s.dir == first.name).main_value == 0.0


def test_incomplete_and_unreadable_runs_are_left_out(tmp_path: Path) -> None:
    write_run(tmp_path, "s", "simple1", "simple/model1", [Item("id0", 1.0)])
    broken = write_run(tmp_path, "s", "lpm:difficulty=easy", "simple/model1", [Item("id0", 1.0)])
    (broken / "run_spec.json").write_text("[")
    (tmp_path / "runs" / "s" / "unfinished").mkdir()
    collection = collect_runs(Storage(tmp_path), "s", {})
    assert [s.dir for s in collection.summaries] == ["simple1:model=simple_model1"]
    assert collection.problems == [
        f"run {broken.name!r}: run_spec.json is not valid JSON (Expecting value: line 1 column 2 (char 1))"
    ]
