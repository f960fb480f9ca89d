"""Status of a suite's expected runs: done, running, failed (error marker or stale), missing, unlisted."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench import ConfigError
from bench.presentation import status_text, suite_status
from bench.runner import Storage
from tests.bench.presentation.runs_fixture import Item, write_run

NOW = 1_800_000_000.0
CONF = """\
[suite t]
simple1
lpm:difficulty=easy
lpm:difficulty=medium: 2
lpm:difficulty=hard
dyck_language:num_parenthesis_pairs=2
numeracy:relation_type=linear,model=openai/davinci   # names its own model
[suite other]
simple1
"""


def _folder(root: Path, name: str, *, age: float, files: tuple[str, ...] = ("run_spec.json",)) -> Path:
    folder = root / "runs" / "t" / name
    folder.mkdir(parents=True)
    for file in files:
        (folder / file).write_text("{}")
        os.utime(folder / file, (NOW - age, NOW - age))
    return folder


@pytest.fixture
def results(tmp_path: Path) -> Path:
    (tmp_path / "run_specs.conf").write_text(CONF)
    write_run(tmp_path, "t", "simple1", "simple/model1", [Item("id0", 1.0)])
    write_run(tmp_path, "t", "simple1:data_augmentation=typos", "simple/model1", [Item("id0", 1.0)])
    _folder(tmp_path, "lpm:difficulty=easy,model=simple_model1", age=30)
    failed = _folder(tmp_path, "lpm:difficulty=medium,model=simple_model1", age=5)
    (failed / "error.json").write_text(json.dumps({"error": "model 'simple/model1' is unavailable\nmore"}))
    _folder(tmp_path, "lpm:difficulty=hard,model=simple_model1", age=7200)
    return tmp_path


def test_each_expected_run_gets_its_status(results: Path) -> None:
    status = suite_status(Storage(results), "t", conf_path=results / "run_specs.conf",
                          models=["simple/model1"], now=NOW)  # fmt: skip
    by_run = {e.run: (e.status, e.detail) for e in status.entries}
    assert by_run == {
        "simple1:model=simple_model1": ("done", ""),
        "lpm:difficulty=easy,model=simple_model1": ("running", "last write 30 s ago"),
        "lpm:difficulty=medium,model=simple_model1": ("failed", "model 'simple/model1' is unavailable"),
        "lpm:difficulty=hard,model=simple_model1": ("failed", "no stats.json and no change for 120 min (interrupted?)"),
        "dyck_language:num_parenthesis_pairs=2,model=simple_model1": ("missing", ""),
        "numeracy:relation_type=linear,model=openai_davinci": ("missing", ""),
        "simple1:model=simple_model1,data_augmentation=typos": ("done", ""),
    }
    unlisted = [e.run for e in status.entries if not e.entry]
    assert unlisted == ["simple1:model=simple_model1,data_augmentation=typos"]
    assert status.counts() == {"done": 1, "running": 1, "failed": 2, "missing": 2}


def test_status_text_lists_counts_then_runs(results: Path) -> None:
    status = suite_status(Storage(results), "t", conf_path=results / "run_specs.conf", now=NOW, max_priority=1)
    text = status_text(status)
    # no model at all: only the entry that names its own model can be expanded, and a note says why
    assert text.splitlines()[0] == f"Suite t: 1 expected runs from {results / 'run_specs.conf'} [suite t]"
    assert "note: no model given (-m) and no run present" in text
    status = suite_status(Storage(results), "t", conf_path=results / "run_specs.conf", now=NOW,
                          max_priority=1, present_models=["simple/model1"])  # fmt: skip
    lines = status_text(status).splitlines()
    assert lines[0] == f"Suite t: 5 expected runs from {results / 'run_specs.conf'} [suite t]"
    assert lines[1:3] == ["models: simple/model1", "done 1, running 1, failed 1, missing 2; not listed 2"]
    assert lines[4] == "done     simple1:model=simple_model1"
    assert (
        "failed   lpm:difficulty=hard,model=simple_model1  (no stats.json and no change for 120 min (interrupted?))"
        in lines
    )
    # priority 2 entry (medium) is left out of the expected runs, so its folder is reported as not listed
    assert lines[-3:] == [
        "Runs present but not listed in the suite:",
        "done     simple1:model=simple_model1,data_augmentation=typos",
        "failed   lpm:difficulty=medium,model=simple_model1  (model 'simple/model1' is unavailable)",
    ]


def test_bad_model_and_unknown_suite_become_notes(results: Path) -> None:
    storage = Storage(results)
    status = suite_status(storage, "t", conf_path=results / "run_specs.conf", models=["nope/model"], now=NOW)
    assert any("cannot expand 'simple1': run entry 'simple1': unknown model or model group 'nope/model'" in n
               for n in status.notes)  # fmt: skip
    status = suite_status(storage, "t2", conf_path=results / "run_specs.conf", now=NOW)
    assert status.notes == [f"suite 't2' is not in {results / 'run_specs.conf'}: only the runs present are listed"]
    assert status.entries == []


def test_missing_conf_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        suite_status(Storage(tmp_path), "t", conf_path=tmp_path / "nope.conf")


def test_an_incomplete_run_is_listed_as_failed_with_its_counts(tmp_path: Path) -> None:
    """A run with too many failed requests has no stats.json and the error.json the runners write, saying why."""
    from bench.run_specs import expand_run_entry
    from bench.runner import FailurePolicy, RunResult, Storage, incomplete_marker

    [run_spec] = expand_run_entry("simple1:model=simple/model1")
    folder = _folder(tmp_path, "simple1:model=simple_model1", age=5)
    result = RunResult(run_spec, [], 10, 10, 3, folder, num_retriable_failed_requests=3)
    result.incomplete = FailurePolicy().incomplete_message(run_spec.name, result.failure_counts())
    Storage(str(folder)).write_json("error.json", incomplete_marker(result))
    [entry] = suite_status(Storage(tmp_path), "t", conf_path=None, now=NOW).entries
    assert entry.status == "failed"
    assert entry.detail.startswith("run simple1:model=simple_model1 is incomplete: 3 of 10 requests failed (30.0%")
