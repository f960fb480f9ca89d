"""Parquet tables of request states and per-instance Stats: flat columns to query, lossless round trip."""

from __future__ import annotations

from bench import GeneratedOutput, Instance, PerturbationDescription, Request, RequestResult, Stat
from bench.adaptation import RequestState
from bench.runner import (
    PER_INSTANCE_STATS_SCHEMA,
    REQUEST_STATES_SCHEMA,
    PerInstanceStats,
    StatsAccumulator,
    fold_per_instance,
    per_instance_table,
    read_per_instance,
    read_request_states,
    request_states_table,
)

TYPOS = PerturbationDescription(name="typos", robustness=True, args={"prob": 0.1})


def test_request_states_round_trip_with_flat_columns() -> None:
    ok = RequestState(
        instance=Instance(input="a b", id="id0", split="test", perturbation=TYPOS),
        request=Request(model="simple/model1", prompt="a b"),
        result=RequestResult(success=True, completions=(GeneratedOutput(text=" b", logprob=-0.5),), cached=True),
    )
    failed = RequestState(
        instance=Instance(input="c", id="id1", sub_split="x"),
        reference_index=2,
        request=Request(model="simple/model1", prompt="c"),
        result=RequestResult.failure("provider error 503", retriable=True),
    )
    pending = RequestState(instance=Instance(input="d", id="id2"), request=Request(model="simple/model1", prompt="d"))
    table = request_states_table([ok, failed, pending])
    assert table.schema == REQUEST_STATES_SCHEMA
    rows = table.to_pylist()
    assert [r["perturbation"] for r in rows] == ["typos", None, None]
    assert [r["success"] for r in rows] == [True, False, None]
    assert [r["error"] for r in rows] == [None, "provider error 503", None]
    assert [r["completion"] for r in rows] == [" b", None, None]
    assert rows[0]["cached"] is True and rows[1]["reference_index"] == 2 and rows[1]["sub_split"] == "x"
    assert read_request_states(table) == [ok, failed, pending]


def test_per_instance_stats_round_trip() -> None:
    items = [
        PerInstanceStats(
            instance_id="id0",
            train_trial_index=1,
            split="test",
            perturbation=TYPOS,
            stats=[Stat.of("exact_match", 1.0), Stat.of("logprob", -0.25, -0.5)],
        ),
        PerInstanceStats(instance_id="id1", train_trial_index=0, split="valid", sub_split="s", stats=[]),
    ]
    table = per_instance_table(items)
    assert table.schema == PER_INSTANCE_STATS_SCHEMA
    assert table.column("perturbation").to_pylist() == ["typos", None]
    assert table.column("stats").to_pylist()[0][1] == {
        "name": "logprob",
        "count": 2,
        "sum": -0.75,
        "sum_squared": 0.3125,
        "min": -0.5,
        "max": -0.25,
    }
    assert read_per_instance(table) == items


def test_folding_a_table_gives_the_same_figures_as_folding_its_rows() -> None:
    items = [
        PerInstanceStats(
            instance_id=f"id{i // 2}",
            train_trial_index=i % 2,
            split="test",
            sub_split="s" if i % 3 else None,
            perturbation=TYPOS if i % 4 == 1 else None,
            stats=[Stat.of("exact_match", i % 2), Stat.of("logprob", -0.1 * i, -0.3 / (i + 1)), Stat.of("empty")],
        )
        for i in range(40)
    ]
    table = per_instance_table(items)
    for trial in (0, 1):
        expected = StatsAccumulator().add(item for item in items if item.train_trial_index == trial)
        folded = StatsAccumulator()
        others = {t for offset in range(0, 40, 7) for t in fold_per_instance(table.slice(offset, 7), folded, trial)}
        assert others == {1 - trial}
        assert folded.slices == expected.slices  # the same figures to the last bit, slices of the table included


def test_empty_tables_keep_their_schema() -> None:
    assert request_states_table([]).schema == REQUEST_STATES_SCHEMA
    assert per_instance_table([]).num_rows == 0
