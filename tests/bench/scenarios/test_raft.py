"""raft on a fixture in the layout of ought/raft's data/<subset>/train.csv: parsing, split, errors, runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import ScenarioDataError
from bench.models import InProcessService
from bench.run_specs import RUN_SPEC_FUNCTIONS
from bench.runner import Runner
from bench.scenarios import create_scenario
from bench.scenarios._raft import LABELS, label_name, parse_raft_csv
from jobs.benchmark_run import main

FIXTURE = Path(__file__).parents[2] / "fixtures" / "raft"


def _cache(tmp_path: Path) -> Path:
    cache = tmp_path / "scenarios" / "raft"
    shutil.copytree(FIXTURE, cache)
    return cache


def test_labelled_rows_are_split_into_train_and_held_out_test(tmp_path: Path) -> None:
    instances = create_scenario("raft", {}).get_instances(str(_cache(tmp_path)))
    assert [i.split for i in instances] == ["train"] * 10 + ["test"] * 4
    by_input = {i.input: i.references[0].output for i in instances}
    assert len(by_input) == 14  # every row once, ID and Label not shown
    assert by_input["Sentence: No unusual reactions were seen during the study."] == "not ADE-related"  # Label 2
    assert by_input["Sentence: The patient developed a rash after starting amoxicillin."] == "ADE-related"  # Label 1
    assert 'Sentence: Dizziness, "mild" at first, began after the dose was doubled.' in by_input  # CSV quoting
    again = create_scenario("raft", {}).get_instances(str(tmp_path / "scenarios" / "raft"))
    assert again == instances  # the seeded split is stable
    other = create_scenario("raft", {"seed": 7}).get_instances(str(tmp_path / "scenarios" / "raft"))
    assert {i.input for i in other if i.split == "test"} != {i.input for i in instances if i.split == "test"}


def test_label_cells_by_index_or_by_name() -> None:
    assert label_name("one_stop_english", "3") == "intermediate"
    assert label_name("one_stop_english", "0") is None  # unlabelled
    assert label_name("twitter_complaints", "no complaint") == "no complaint"
    assert len(LABELS["banking_77"]) == 77
    # The older layout (raft-baselines): text, Label as a name, ID
    rows = parse_raft_csv("overruling", 'Sentence,Label,ID\n"we overrule smith, in part",overruling,0\n')
    assert rows == [("Sentence: we overrule smith, in part", "overruling")]
    with pytest.raises(ValueError, match="label index 4 is out of range \\(the subset has 3 labels\\)"):
        label_name("one_stop_english", "4")
    with pytest.raises(ValueError, match="unknown label 'maybe'"):
        label_name("overruling", "maybe")


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="subset 'imdb' is not valid; choose one of: ade_corpus_v2, banking_77"):
        create_scenario("raft", {"subset": "imdb"})
    cache = _cache(tmp_path)
    (cache / "ade_corpus_v2" / "train.csv").write_text("Sentence,ID\nhello,0\n")
    with pytest.raises(ScenarioDataError, match=r"train\.csv: no Label column"):
        create_scenario("raft", {}).get_instances(str(cache))


def test_offline_without_cache_names_the_url_and_the_path(tmp_path: Path) -> None:
    scenario = create_scenario("raft", {"subset": "overruling", "source_url": "http://127.0.0.1:9/{subset}/train.csv"})
    with pytest.raises(ScenarioDataError) as error:
        scenario.get_instances(str(tmp_path))
    assert "http://127.0.0.1:9/overruling/train.csv" in str(error.value)
    assert str(tmp_path / "overruling" / "train.csv") in str(error.value)


def test_runs_end_to_end_on_simple_model(tmp_path: Path) -> None:
    _cache(tmp_path)
    run_spec = RUN_SPEC_FUNCTIONS.get("raft")()
    assert "ADE-related, not ADE-related" in run_spec.adapter_spec.instructions
    stats = {
        (s.name.name, s.name.split): s
        for s in Runner.in_process(InProcessService(), tmp_path, "t").run_one(run_spec).stats
    }
    assert stats[("exact_match", "test")].count == 4
    assert stats[("quasi_exact_match", "test")].count == 4


def test_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _cache(tmp_path)
    assert main(["-r", "raft:model=openai/davinci", "--dry-run", "-o", str(tmp_path)]) == 0
    assert "openai/davinci_estimated_number_of_tokens[min=" in capsys.readouterr().out
