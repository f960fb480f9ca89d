"""HumanEval loader: the packaged HumanEval.jsonl.gz copied into the scenario cache and parsed exactly."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bench import CORRECT_TAG, TEST_SPLIT, ScenarioDataError
from bench.metrics._code import TEST_PROGRAM_TAG as METRIC_TAG
from bench.scenarios import create_scenario
from bench.scenarios._humaneval import (
    DATA_FILE,
    HUMANEVAL_URL,
    TEST_PROGRAM_TAG,
    ensure_humaneval_file,
    packaged_data_file,
    read_problems,
)


def test_the_package_ships_the_data_file() -> None:
    path = packaged_data_file()
    assert path is not None and path.name == "HumanEval.jsonl.gz"


def test_instances_of_the_real_file(tmp_path: Path) -> None:
    instances = create_scenario("humaneval", {}).get_instances(str(tmp_path))
    assert (tmp_path / DATA_FILE).read_bytes() == packaged_data_file().read_bytes()  # type: ignore[union-attr]
    assert len(instances) == 164
    first = instances[0]
    assert first.id == "HumanEval_0" and first.split == TEST_SPLIT
    assert first.input.startswith("from typing import List\n\n\ndef has_close_elements(")
    assert first.input.endswith('"""\n')
    solution, tests = first.references
    assert solution.tags == (CORRECT_TAG,) and solution.output.startswith("    for idx, elem in enumerate(numbers):")
    assert tests.tags == (TEST_PROGRAM_TAG,)
    assert "def check(candidate):" in tests.output and tests.output.endswith("\n\ncheck(has_close_elements)\n")
    assert instances[163].id == "HumanEval_163"


def test_the_scenario_and_the_metric_agree_on_the_tag() -> None:
    assert TEST_PROGRAM_TAG == METRIC_TAG


def test_a_cached_file_is_reused(tmp_path: Path) -> None:
    cached = tmp_path / DATA_FILE
    with gzip.open(cached, "wt", encoding="utf-8") as f:
        record = {
            "task_id": "HumanEval/7",
            "prompt": "def f():\n",
            "canonical_solution": "    return 1\n",
            "test": "def check(candidate):\n    assert candidate() == 1\n",
            "entry_point": "f",
        }
        f.write(json.dumps(record) + "\n")
    assert ensure_humaneval_file(tmp_path) == cached
    [instance] = create_scenario("humaneval", {}).get_instances(str(tmp_path))
    assert instance.id == "HumanEval_7" and instance.references[1].output.endswith("check(f)\n")


def test_without_the_package_it_downloads_and_offline_names_url_and_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bench.scenarios._humaneval as humaneval

    monkeypatch.setattr(humaneval, "packaged_data_file", lambda: None)
    monkeypatch.setattr(humaneval, "HUMANEVAL_URL", "http://127.0.0.1:1/HumanEval.jsonl.gz")
    with pytest.raises(ScenarioDataError) as error:
        humaneval.ensure_humaneval_file(tmp_path)
    assert "http://127.0.0.1:1/HumanEval.jsonl.gz" in str(error.value) and str(tmp_path / DATA_FILE) in str(error.value)
    assert HUMANEVAL_URL.startswith("https://github.com/openai/human-eval/")


def test_a_record_missing_a_field_is_reported(tmp_path: Path) -> None:
    path = tmp_path / DATA_FILE
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"task_id": "HumanEval/0", "prompt": "def f():\n"}) + "\n")
    with pytest.raises(ScenarioDataError, match="lacks canonical_solution, test, entry_point"):
        read_problems(path)


def test_a_file_that_is_not_gzip_is_reported(tmp_path: Path) -> None:
    path = tmp_path / DATA_FILE
    path.write_text("not gzip")
    with pytest.raises(ScenarioDataError, match="not HumanEval's gzipped JSON lines"):
        read_problems(path)
