"""Uncertainty on the site: each main figure with its standard error and 95% interval, and the paired test that
says whether two models' difference on a scenario is within noise (hand-checked, and against statistics/numpy)."""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import numpy as np
import pytest

from bench._stat import Z_95
from bench.presentation import SuiteSummary, paired_comparison, present_suite
from bench.runner import Storage
from tests.bench.presentation.runs_fixture import Item, write_run


def test_a_small_difference_on_few_instances_is_within_noise() -> None:
    a = {"1|0": 1.0, "2|0": 1.0, "3|0": 0.0, "4|0": 1.0, "only_a|0": 1.0}
    b = {"1|0": 0.0, "2|0": 1.0, "3|0": 0.0, "4|0": 0.0, "only_b|0": 0.0}
    result = paired_comparison("simple1", "m1", a, "m2", b)
    assert result is not None
    # shared: 1..4; differences 1, 0, 0, 1: mean 0.5, sample variance (2 - 4 * 0.25) / 3 = 1/3
    assert result.count == 4 and result.mean_difference == pytest.approx(0.5)
    assert result.stderr == pytest.approx(math.sqrt(1 / 3) / 2)  # 0.2887
    assert (result.ci_low, result.ci_high) == pytest.approx(
        (0.5 - 1.959964 * 0.288675, 0.5 + 1.959964 * 0.288675), abs=1e-5
    )
    assert result.ci_low == pytest.approx(-0.0658, abs=1e-4) and result.within_noise


def test_a_consistent_difference_is_not_noise_and_matches_the_reference_libraries() -> None:
    # model a answers all 20 right, model b the first 10: differences ten 0s and ten 1s
    a = {f"{k}|0": 1.0 for k in range(20)}
    b = {f"{k}|0": 1.0 if k < 10 else 0.0 for k in range(20)}
    result = paired_comparison("simple1", "m1", a, "m2", b)
    assert result is not None and not result.within_noise
    differences = [a[k] - b[k] for k in a]
    stderr = statistics.stdev(differences) / math.sqrt(20)
    assert result.stderr == pytest.approx(stderr) == pytest.approx(np.std(differences, ddof=1) / np.sqrt(20))
    assert result.stderr == pytest.approx(math.sqrt(5 / 19) / math.sqrt(20))  # by hand: 0.1147
    normal = statistics.NormalDist(0.5, stderr)
    assert (result.ci_low, result.ci_high) == pytest.approx((normal.inv_cdf(0.025), normal.inv_cdf(0.975)))
    assert result.ci_low == pytest.approx(0.2752, abs=1e-4)
    assert pytest.approx(1.959963984540054) == Z_95


def test_fewer_than_two_shared_instances_give_no_comparison() -> None:
    assert paired_comparison("c", "m1", {"1|0": 1.0, "2|0": 0.0}, "m2", {"1|0": 0.0, "3|0": 1.0}) is None


def test_the_site_shows_intervals_failures_and_which_differences_are_noise(tmp_path: Path) -> None:
    results = tmp_path / "results"
    strong = [Item(f"id{k}", 1.0) for k in range(20)]
    weak = [Item(f"id{k}", 1.0 if k < 10 else 0.0) for k in range(20)]
    write_run(results, "s", "simple1", "simple/model1", strong)
    write_run(results, "s", "simple1", "openai/gpt-3.5-turbo-instruct", weak)
    write_run(results, "s", "lpm:difficulty=easy", "simple/model1", strong[:4])
    folder = write_run(
        results, "s", "lpm:difficulty=easy", "openai/gpt-3.5-turbo-instruct", [*strong[:3], Item("id3", 0.0)]
    )
    info = json.loads((folder / "run_info.json").read_text())
    (folder / "run_info.json").write_text(json.dumps({**info, "num_failed_requests": 2}))  # complete, failures allowed

    site = tmp_path / "site"
    summary = present_suite(Storage(results), "s", site).summary
    by_name = {(r.model, r.scenario): r for r in summary.runs}
    weak_run = by_name[("openai/gpt-3.5-turbo-instruct", "simple1")]
    # the stats.json figures: mean 0.5 over 20, stderr sqrt(20 * 0.25 / 19) / sqrt(20)
    assert weak_run.main_value == 0.5
    assert weak_run.main_stderr == pytest.approx(statistics.stdev([i.exact_match for i in weak]) / math.sqrt(20))
    assert weak_run.main_ci_low == pytest.approx(0.5 - Z_95 * weak_run.main_stderr)
    assert len(weak_run.main_values) == 20

    comparisons = {(c.column, c.model_a, c.model_b): c for g in summary.groups for c in g.comparisons}
    simple1 = comparisons[("simple1", "openai/gpt-3.5-turbo-instruct", "simple/model1")]
    assert simple1.mean_difference == pytest.approx(-0.5) and not simple1.within_noise
    lpm = comparisons[("lpm:difficulty=easy", "openai/gpt-3.5-turbo-instruct", "simple/model1")]
    assert lpm.count == 4 and lpm.within_noise  # one different instance of four: noise

    groups = {p.name: p.read_text(encoding="utf-8") for p in (site / "groups").glob("*.html")}
    html = "\n".join(groups.values())
    assert "Differences between models" in html and "within noise" in html and "simple/model1 higher" in html
    assert "±0.115" in html and "95% CI [0.275, 0.725]" in html  # the weak simple1 run: 0.5 ± 0.1147
    assert "⚠ 2 failed" in html  # the run complete with allowed failures is marked
    assert "⚠ 2 failed" in (site / "runs.html").read_text(encoding="utf-8")
    assert SuiteSummary.model_validate_json((site / "summary.json").read_text()).groups[0].comparisons
