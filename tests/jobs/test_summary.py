"""The run summary benchmark-run prints: the same metrics for every run of a suite, and the instances each
perturbed figure covers. Real runs of the generated scenarios on simple/model1 (in-process Runner, real files)."""

from __future__ import annotations

import io
import re
from pathlib import Path

from rich.console import Console

from bench import MetricName, Stat
from bench.models import InProcessService
from bench.run_specs import expand_run_entry
from bench.runner import Runner, RunResult
from jobs._summary import print_run_summary, summary_metrics


def _run(tmp_path: Path, *entries: str) -> list[RunResult]:
    specs = [s for e in entries for s in expand_run_entry(e, default_model="simple/model1")]
    return Runner.in_process(InProcessService(), tmp_path, "suite").run_all(specs)


def _printed(results: list[RunResult]) -> str:
    out = io.StringIO()
    print_run_summary(results, Console(file=out, width=300))
    return out.getvalue()


def _metric_names_per_row(text: str) -> list[list[str]]:
    """The metric names of each run's cell, in order, read from the printed table."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("│")]
        if len(cells) < 7:
            continue
        if cells[1]:  # a new run's first line
            rows.append([])
        match = re.match(r"(\w+)=", cells[5])
        if match and rows:
            rows[-1].append(match.group(1))
    return rows


def test_every_run_of_a_suite_shows_the_same_metrics(tmp_path: Path) -> None:
    # dyck_language has exact_match but no quasi_exact_match or f1_score; lpm has both: before, their rows showed
    # different metrics.
    results = _run(tmp_path, "simple1:max_eval_instances=8", "dyck_language:max_eval_instances=8",
                   "lpm:difficulty=easy,max_eval_instances=8")  # fmt: skip
    metrics = summary_metrics(results)
    assert metrics[0] == "exact_match" and "quasi_exact_match" in metrics and len(metrics) == 4
    text = _printed(results)
    assert _metric_names_per_row(text) == [metrics] * 3
    dyck = next(r for r in results if r.run_spec.name.startswith("dyck"))
    assert not any(s.name.name == "quasi_exact_match" for s in dyck.stats)
    assert "quasi_exact_match=- (not measured)" in text


def test_each_perturbed_figure_says_how_many_instances_it_covers(tmp_path: Path) -> None:
    # typos at probability 0.1 leave some inputs unchanged: those copies are dropped, so the perturbed figure
    # covers fewer instances than the unperturbed one.
    [result] = _run(tmp_path, "simple1:max_eval_instances=10,data_augmentation=typo_easy")
    by_slice = {(s.name.name, s.name.perturbation.name if s.name.perturbation else None): s for s in result.stats
                if s.name.split == "test" and s.name.sub_split is None}  # fmt: skip
    original, typos = by_slice[("exact_match", None)], by_slice[("exact_match", "typos")]
    assert 0 < typos.count < original.count == 10
    text = _printed([result])
    assert f"typos: {typos.mean:.3f} ±{typos.stderr:.3f}" in text
    assert f"({typos.count} of {original.count} instances)" in text


def test_the_metrics_are_those_most_runs_have() -> None:
    def result(name: str, *metrics: str) -> RunResult:
        stats = [Stat.of(MetricName(name=m, split="test"), 1.0, 0.0) for m in metrics]
        return RunResult(_spec(name), stats, 2, 2, 0, None)

    results = [
        result("a", "exact_match", "rouge_l", "bits_per_byte", "perplexity", "ece_10_bin"),
        result("b", "exact_match", "perplexity", "inference_runtime"),
        result("c", "exact_match", "perplexity", "inference_runtime"),
    ]
    # exact_match and perplexity (3 runs), inference_runtime (2), then the first of the 1-run metrics in
    # HEADLINE_METRICS's order (rouge_l); listed in that order
    assert summary_metrics(results) == ["exact_match", "rouge_l", "perplexity", "inference_runtime"]
    failed = RunResult(_spec("d"), [], 0, 0, 0, None, error="cannot download")
    assert summary_metrics([failed]) == []
    assert "failed: cannot download" in _printed([failed, *results])


def _spec(name: str):  # type: ignore[no-untyped-def]
    return expand_run_entry("simple1", default_model="simple/model1")[0].model_copy(update={"name": name})
