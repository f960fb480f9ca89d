"""boolq: train.jsonl and dev.jsonl read from the cache as the download places them; offline message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import CORRECT_TAG, ScenarioDataError
from bench.scenarios import _boolq
from bench.scenarios._boolq import BoolQScenario

FIXTURE = Path(__file__).parents[2] / "fixtures" / "boolq"


def _cache(tmp_path: Path) -> Path:
    """<cache>/data/train.jsonl and <cache>/data/dev.jsonl, the files as published."""
    shutil.copytree(FIXTURE, tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_passage_then_capitalized_question_and_yes_or_no(tmp_path: Path) -> None:
    instances = BoolQScenario().get_instances(str(_cache(tmp_path)))
    assert [i.split for i in instances] == ["train", "train", "train", "valid", "valid"]
    assert instances[0].input == (
        "Nile -- The Nile is a major north-flowing river in northeastern Africa, and is the longest river in Africa."
        "\nQuestion: Is the nile the longest river in africa?"
    )
    answers = [[(r.output, r.tags) for r in i.references] for i in instances]
    yes, no = [("Yes", (CORRECT_TAG,))], [("No", (CORRECT_TAG,))]
    assert answers == [yes, no, yes, yes, no]
    assert instances[4].input.endswith("\nQuestion: Does the moon have its own light?")


def test_malformed_line_names_file_line_and_key(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    (cache / "data" / "dev.jsonl").write_text('{"question": "q", "passage": "p", "answer": "yes", "title": "t"}\n')
    with pytest.raises(ScenarioDataError, match=r"dev\.jsonl:1: key 'answer' must be a bool, got 'yes'"):
        BoolQScenario().get_instances(str(cache))
    (cache / "data" / "dev.jsonl").write_text("\n{not json\n")
    with pytest.raises(ScenarioDataError, match=r"dev\.jsonl:2: not valid JSON"):
        BoolQScenario().get_instances(str(cache))


def test_offline_without_cache_names_url_and_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_boolq, "BASE_URL", "http://127.0.0.1:9/boolq")
    with pytest.raises(ScenarioDataError) as error:
        BoolQScenario().get_instances(str(tmp_path))
    assert "http://127.0.0.1:9/boolq/train.jsonl" in str(error.value)
    assert str(tmp_path / "data" / "train.jsonl") in str(error.value)


def test_a_partly_filled_cache_downloads_only_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = _cache(tmp_path)
    (cache / "data" / "dev.jsonl").unlink()
    monkeypatch.setattr(_boolq, "BASE_URL", "http://127.0.0.1:9/boolq")
    with pytest.raises(ScenarioDataError, match=r"http://127\.0\.0\.1:9/boolq/dev\.jsonl"):
        BoolQScenario().get_instances(str(cache))
