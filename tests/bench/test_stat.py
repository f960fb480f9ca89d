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


def test_uncertainty_of_the_mean_by_hand_and_against_statistics_and_numpy() -> None:
    import statistics

    import numpy as np

    from bench._stat import Z_95

    values = [1.0, 2.0, 3.0, 6.0]
    stat = Stat.of("x", *values)
    # sample variance: (50 - 12^2 / 4) / 3 = 14 / 3; standard error sqrt(14/3) / 2 = 1.0801
    assert stat.sample_variance == pytest.approx(14 / 3) == pytest.approx(statistics.variance(values))
    assert stat.sample_stddev == pytest.approx(np.std(values, ddof=1))
    assert stat.stderr == pytest.approx(math.sqrt(14 / 3) / 2)
    low, high = stat.ci95 or (0.0, 0.0)
    normal = statistics.NormalDist(3.0, statistics.stdev(values) / 2)
    assert (low, high) == pytest.approx((normal.inv_cdf(0.025), normal.inv_cdf(0.975)))
    assert (low, high) == pytest.approx((3 - 1.959964 * 1.080123, 3 + 1.959964 * 1.080123), abs=1e-5)
    assert abs(Z_95 - 1.96) < 1e-3
    # HELM's population figures are unchanged beside them
    assert stat.stddev == pytest.approx(math.sqrt(3.5))


def test_uncertainty_needs_two_values_and_merges_exactly() -> None:
    assert Stat.of("x", 1.0).stderr is None and Stat.of("x", 1.0).ci95 is None
    assert Stat.of("x").sample_variance is None
    assert Stat.of("x", 1.0, 1.0, 1.0).ci95 == (1.0, 1.0)  # no spread: a zero-width interval
    values = [0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0]
    whole = Stat.of("x", *values)
    merged = Stat.of("x", *values[:3]).merge(Stat.of("x", *values[3:]))
    assert (merged.stderr, merged.ci95) == (whole.stderr, whole.ci95)  # shards merge to the same interval


def test_printed_forms_helm_unchanged_and_with_uncertainty() -> None:
    stat = Stat.of("exact_match", 1.0, 0.0, 1.0, 1.0)
    assert str(stat) == "exact_match[min=0.000, mean=0.750, max=1.000, sum=3.000 (4)]"  # HELM's form
    # stderr sqrt((3 - 9/4) / 3) / 2 = 0.25; interval 0.75 +- 0.49
    assert stat.uncertainty_str() == "0.750 \u00b10.250 [0.260, 1.240] (4)"
    assert Stat.of("x", 2.0).uncertainty_str() == "2.000 (1)"


def test_stats_json_keeps_helm_fields_and_adds_the_uncertainty() -> None:
    from bench.runner import stat_from_json, stat_to_json

    stat = Stat.of(MetricName(name="exact_match", split="test"), 1.0, 0.0, 1.0, 1.0)
    data = stat_to_json(stat)
    assert {"name", "count", "sum", "sum_squared", "min", "max", "mean", "variance", "stddev"} <= data.keys()
    assert data["stderr"] == pytest.approx(0.25) and data["sample_stddev"] == pytest.approx(0.5)
    assert (data["ci95_low"], data["ci95_high"]) == pytest.approx((0.75 - 0.49, 0.75 + 0.49), abs=1e-3)
    assert stat_from_json(data) == stat
