"""Reading one run: main metric, tokens and cost, paired robustness and fairness, calibration, rows, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.presentation import RunReadError, read_run, run_column, run_group, run_slug
from bench.runner import Storage
from tests.bench.presentation.runs_fixture import DIALECT, TYPOS, Item, original_stat, write_run


def _robust_run(root: Path) -> str:
    """Four originals scoring 1, 0, 1, 1; typos on id0 (0) and id1 (0); dialect on id2 (1)."""
    items = [
        Item("id0", 1.0, input="x y y", completion=" y"),
        Item("id1", 0.0),
        Item("id2", 1.0),
        Item("id3", 1.0),
        Item("id0", 0.0, input="x y yy", completion=" x", perturbation=TYPOS),
        Item("id1", 0.0, perturbation=TYPOS),
        Item("id2", 1.0, perturbation=DIALECT),
    ]
    return write_run(root, "s", "simple1:data_augmentation=robustness", "simple/model1", items).name


def test_main_metric_and_paired_perturbations(tmp_path: Path) -> None:
    run_dir = _robust_run(tmp_path)
    data = read_run(Storage(tmp_path), "s", run_dir)
    summary = data.summary
    assert summary.name == "simple1:model=simple_model1,data_augmentation=robustness"
    assert summary.model == "simple/model1" and summary.group == "simple1"
    assert summary.column == "simple1:data_augmentation=robustness"
    assert summary.augmentation == "robustness"
    assert (summary.main_metric, summary.main_value) == ("exact_match", 0.75)
    typos, dialect = sorted(summary.perturbations, key=lambda p: p.perturbation, reverse=True)
    # typos: perturbed (0 + 0) / 2 against the same two originals (1 + 0) / 2
    assert (typos.perturbation, typos.kind, typos.count) == ("typos", "robustness", 2)
    assert (typos.perturbed, typos.original, typos.drop) == (0.0, 0.5, 0.5)
    assert (dialect.kind, dialect.perturbed, dialect.original, dialect.drop) == ("fairness", 1.0, 1.0, 0.0)
    # worst case per instance over original and robustness perturbations: id0 0, id1 0, id2 1, id3 1
    assert summary.robustness_worst == 0.5
    assert summary.fairness_worst == 0.75
    # tokens of all 7 requests: 70 prompt, 7 completion; simple/model1 lists no prices: no cost, not $0
    assert (summary.prompt_tokens, summary.completion_tokens, summary.cost) == (70.0, 7.0, None)
    assert summary.num_rows == len(data.rows) == 7


def test_rows_join_requests_and_per_instance_metrics(tmp_path: Path) -> None:
    data = read_run(Storage(tmp_path), "s", _robust_run(tmp_path))
    row = next(r for r in data.rows if r["id"] == "id0" and r["perturbation"] == "typos")
    assert row["input"] == "x y yy" and row["kind"] == "robustness" and row["split"] == "test"
    assert row["references"] == [["b", True], ["zz", False]]
    assert row["requests"] == [{"prompt": "Input: x y yy\nAnswer:", "completions": [" x"], "error": None}]
    assert row["metrics"] == {"exact_match": 0.0, "num_prompt_tokens": 10.0, "num_completion_tokens": 1.0}


def test_cost_uses_the_deployment_prices(tmp_path: Path) -> None:
    # gpt-3.5-turbo-instruct: $1.50 per 1M prompt tokens, $2.00 per 1M output tokens
    items = [Item(f"id{k}", 1.0, prompt_tokens=100_000, completion_tokens=25_000) for k in range(4)]
    folder = write_run(tmp_path, "s", "simple1", "openai/gpt-3.5-turbo-instruct", items)
    summary = read_run(Storage(tmp_path), "s", folder.name).summary
    assert summary.cost == pytest.approx(400_000 * 1.5 / 1e6 + 100_000 * 2.0 / 1e6)  # 0.6 + 0.2


def test_calibration_bins_from_the_hidden_stats(tmp_path: Path) -> None:
    extra = [
        original_stat("_ece_bin2_confidence", 0.2, 0.3),
        original_stat("_ece_bin2_correct", 0.0, 1.0),
        original_stat("_ece_bin9_confidence", 0.95),
        original_stat("_ece_bin9_correct", 1.0),
        original_stat("ece_10_bin", 0.1),
    ]
    folder = write_run(tmp_path, "s", "simple1", "simple/model1", [Item("id0", 1.0)], extra_stats=extra)
    summary = read_run(Storage(tmp_path), "s", folder.name).summary
    low, high = summary.calibration
    assert (low.lower, low.upper, low.count, low.confidence, low.accuracy) == (0.2, 0.3, 2, 0.25, 0.5)
    assert (high.lower, high.count, high.confidence, high.accuracy) == (0.9, 1, 0.95, 1.0)
    assert summary.ece == 0.1


def test_a_run_without_perturbations_has_no_robustness_view(tmp_path: Path) -> None:
    folder = write_run(tmp_path, "s", "lpm:difficulty=easy", "simple/model1", [Item("id0", 1.0), Item("id1", 0.0)])
    summary = read_run(Storage(tmp_path), "s", folder.name).summary
    assert summary.perturbations == [] and summary.robustness_worst is None and summary.calibration == []
    # the group comes from the RunSpec's groups (synthetic_reasoning, lpm), never another scenario's
    assert summary.column == "lpm:difficulty=easy" and summary.group == "lpm"
    assert summary.main_value == 0.5


def test_missing_and_broken_files_name_the_run_and_the_file(tmp_path: Path) -> None:
    folder = write_run(tmp_path, "s", "simple1", "simple/model1", [Item("id0", 1.0)], helm_form=True)
    (folder / "per_instance_stats.json").write_text("{not json")
    with pytest.raises(RunReadError, match=r"run 'simple1:model=simple_model1': per_instance_stats.json is not valid"):
        read_run(Storage(tmp_path), "s", folder.name)
    (folder / "run_spec.json").unlink()
    with pytest.raises(RunReadError, match=r"run_spec\.json is missing"):
        read_run(Storage(tmp_path), "s", folder.name)


def test_slugs_are_url_safe_and_distinct() -> None:
    a, b = run_slug("simple1:model=a_b"), run_slug("simple1:model=a/b")
    assert a != b
    assert all(ch.isalnum() or ch in "._-" for ch in a + b)
    assert run_column("lpm:difficulty=easy,model=simple_model1,data_augmentation=typos") == (
        "lpm:difficulty=easy,data_augmentation=typos"
    )
    assert run_column("simple1:model=simple_model1") == "simple1"


def test_a_scenario_is_never_shown_in_another_scenarios_group(tmp_path: Path) -> None:
    """lpm's RunSpec lists the groups synthetic_reasoning and lpm, broadest first; synthetic_reasoning is another
    scenario's group (other instances, another task), so lpm gets its own; a broader group that names no scenario
    (humaneval's `code`) is kept."""
    storage = Storage(tmp_path)
    groups = {}
    for entry in ("lpm:difficulty=easy", "synthetic_reasoning:mode=induction", "numeracy"):
        folder = write_run(tmp_path, "s", entry, "simple/model1", [Item("id0", 1.0)])
        groups[entry.split(":")[0]] = read_run(storage, "s", folder.name).summary.group
    assert groups == {"lpm": "lpm", "synthetic_reasoning": "synthetic_reasoning", "numeracy": "numeracy"}
    assert run_group({"name": "lpm:difficulty=hard", "scenario_spec": {"name": "lpm"},
                      "groups": ["synthetic_reasoning", "lpm"]}) == "lpm"  # fmt: skip
    humaneval = {"name": "humaneval", "scenario_spec": {"name": "humaneval"}, "groups": ["code", "humaneval"]}
    assert run_group(humaneval) == "code"
    assert run_group({"name": "x:a=1", "scenario_spec": {"name": "x"}}) == "x"  # no groups: the scenario's name
