"""Stat: values by hand, exact merging, a real standard deviation, HELM's printed form."""

from __future__ import annotations

import math

import pytest

from bench import MetricName, Stat, merge_stats


def test_stat_summarises_values() -> None:
    stat = Stat.of("x", 1, 2, 3, 6)
    # count 4, sum 12, mean 3, squares 1+4+9+36 = 50, variance 50/4 - 9 = 3.5
    assert (stat.count, stat.sum, stat.sum_squared, stat.min, stat.max) == (4, 12, 50, 1, 6)
    assert stat.mean == 3
    assert stat.variance == pytest.approx(3.5)
    assert stat.stddev == pytest.approx(math.sqrt(3.5))


def test_merge_equals_adding_all_values() -> None:
    values = [0.5, 2.0, -1.0, 4.0, 3.25]
    whole = Stat.of("x", *values)
    left, right = Stat.of("x", *values[:2]), Stat.of("x", *values[2:])
    merged = left.merge(right)
    assert merged.model_dump() == whole.model_dump()


def test_merge_with_empty_stat_changes_nothing() -> None:
    stat = Stat.of("x", 1.0)
    assert stat.merge(Stat.of("x")).model_dump() == Stat.of("x", 1.0).model_dump()
    empty = Stat.of("x").merge(Stat.of("x", 2.0))
    assert (empty.min, empty.max, empty.count) == (2.0, 2.0, 1)


def test_empty_stat_has_no_mean() -> None:
    stat = Stat.of("x")
    assert stat.mean is None and stat.stddev is None
    assert str(stat) == "x[(0)]"


def test_printed_form_matches_helm() -> None:
    stat = Stat.of("openai/davinci_estimated_number_of_tokens", 505, 536, 503.871)
    assert str(stat) == (
        "openai/davinci_estimated_number_of_tokens[min=503.871, mean=514.957, max=536.000, sum=1544.871 (3)]"
    )


def test_merge_stats_copies_on_first_sight() -> None:
    a = Stat.of(MetricName(name="em", split="test"), 1)
    into: dict[MetricName, Stat] = {}
    merge_stats(into, [a])
    merge_stats(into, [Stat.of(MetricName(name="em", split="test"), 0)])
    assert into[a.name].count == 2
    assert a.count == 1  # the original is not mutated


def test_json_round_trip() -> None:
    stat = Stat.of(MetricName(name="em", split="test", sub_split="hard"), 1, 0)
    assert Stat.model_validate_json(stat.model_dump_json()) == stat
