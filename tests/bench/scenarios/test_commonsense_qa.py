"""commonsense_qa on fixtures in each dataset's published layout: parsing, errors, a run, a dry run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import Instance, ScenarioDataError
from bench.models import InProcessService
from bench.run_specs import RUN_SPEC_FUNCTIONS
from bench.runner import Runner
from bench.scenarios import create_scenario
from jobs.benchmark_run import main

FIXTURE = Path(__file__).parents[2] / "fixtures" / "commonsense_qa"


def _cache(tmp_path: Path) -> Path:
    cache = tmp_path / "scenarios" / "commonsense_qa"
    shutil.copytree(FIXTURE, cache)
    return cache


def _load(tmp_path: Path, dataset: str) -> list[Instance]:
    return create_scenario("commonsense_qa", {"dataset": dataset}).get_instances(str(_cache(tmp_path)))


def _correct(instance: Instance) -> str:
    return next(r.output for r in instance.references if r.is_correct)


def test_hellaswag(tmp_path: Path) -> None:
    train, first, second = _load(tmp_path, "hellaswag")
    assert (train.split, first.split, second.split) == ("train", "valid", "valid")
    assert first.input == "Roof shingle removal: A man is sitting on a roof. He"  # ctx_b capitalized
    assert second.input == "Washing dishes: A boy stands at the sink."  # empty ctx_b
    assert len(first.references) == 4 and _correct(first) == "starts pulling up roofing on a roof."
    assert _correct(train) == "puts the kettle on the stove."


def test_openbookqa_reads_train_dev_and_test(tmp_path: Path) -> None:
    instances = _load(tmp_path, "openbookqa")
    assert [i.split for i in instances] == ["train", "valid", "test"]
    assert instances[2].input == "Ice melting is an example of"
    assert [r.output for r in instances[2].references][1] == "a change of state" == _correct(instances[2])


def test_commonsenseqa(tmp_path: Path) -> None:
    train, dev = _load(tmp_path, "commonsenseqa")
    assert dev.input == "What do you use to cut paper?" and dev.split == "valid"
    assert len(dev.references) == 5 and _correct(dev) == "scissors" and _correct(train) == "refrigerator"


def test_piqa_labels_come_from_their_own_file(tmp_path: Path) -> None:
    train, first, second = _load(tmp_path, "piqa")
    assert _correct(train) == "rub it with a towel."
    assert first.input == "When boiling butter, when it's ready, you can" and _correct(first) == "Pour it into a jar"
    assert _correct(second) == "twist the lid counterclockwise."


def test_siqa_labels_are_one_based(tmp_path: Path) -> None:
    train, dev = _load(tmp_path, "siqa")
    assert (
        dev.input
        == "Tracy didn't go home that evening and resisted Riley's attacks. What does Tracy need to do before this?"
    )
    assert [r.output for r in dev.references] == ["make a new plan", "Go home and see Riley", "Find somewhere to go"]
    assert _correct(dev) == "Find somewhere to go" and _correct(train) == "grateful"


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="dataset 'arc' is not valid; choose one of: hellaswag, openbookqa"):
        create_scenario("commonsense_qa", {"dataset": "arc"})
    cache = _cache(tmp_path)
    (cache / "piqa" / "valid-labels.lst").write_text("1\n")
    with pytest.raises(ScenarioDataError, match=r"valid-labels\.lst has 1 labels for 2 items in valid\.jsonl"):
        create_scenario("commonsense_qa", {"dataset": "piqa"}).get_instances(str(cache))
    (cache / "siqa" / "socialiqa-train-dev" / "dev-labels.lst").write_text("4\n")
    with pytest.raises(ScenarioDataError, match="SIQA label must be 1, 2 or 3, got 4"):
        create_scenario("commonsense_qa", {"dataset": "siqa"}).get_instances(str(cache))


@pytest.mark.parametrize(
    ("dataset", "path"),
    [
        ("hellaswag", "hellaswag/hellaswag_train.jsonl"),
        ("openbookqa", "openbookqa/OpenBookQA-V1-Sep2018"),
        ("piqa", "piqa/train.jsonl"),
        ("siqa", "siqa/socialiqa-train-dev"),
    ],
)
def test_offline_without_cache_names_the_url_and_the_path(tmp_path: Path, dataset: str, path: str) -> None:
    scenario = create_scenario("commonsense_qa", {"dataset": dataset, "source_url": "http://127.0.0.1:9/data"})
    with pytest.raises(ScenarioDataError) as error:
        scenario.get_instances(str(tmp_path))
    assert "http://127.0.0.1:9/data/" in str(error.value) and str(tmp_path / path) in str(error.value)


@pytest.mark.parametrize("method", ["multiple_choice_separate_original", "multiple_choice_separate_calibrated"])
def test_runs_end_to_end_on_simple_model(tmp_path: Path, method: str) -> None:
    _cache(tmp_path)
    run_spec = RUN_SPEC_FUNCTIONS.get("commonsense_qa")(dataset="openbookqa", method=method)
    stats = {
        (s.name.name, s.name.split): s
        for s in Runner.in_process(InProcessService(), tmp_path, "t").run_one(run_spec).stats
    }
    assert stats[("exact_match", "valid")].count == 1 and stats[("exact_match", "test")].count == 1
    assert ("ece_10_bin", "test") in stats


def test_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _cache(tmp_path)
    assert main(["-r", "commonsense_qa:model=openai/davinci", "--dry-run", "-o", str(tmp_path)]) == 0
    assert "openai/davinci_estimated_number_of_tokens[min=" in capsys.readouterr().out
