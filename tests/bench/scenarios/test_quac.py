"""quac: train_v0.2.json and val_v0.2.json read from the cache as the download places them; offline message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import ScenarioDataError
from bench.scenarios import _quac
from bench.scenarios._quac import QuACScenario

FIXTURE = Path(__file__).parents[2] / "fixtures" / "quac"


def _cache(tmp_path: Path) -> Path:
    """<cache>/data/train_v0.2.json and <cache>/data/val_v0.2.json, the files as published."""
    shutil.copytree(FIXTURE, tmp_path, dirs_exist_ok=True)
    return tmp_path


def _references(instance: object) -> list[str]:
    return [r.output for r in instance.references if r.is_correct]  # type: ignore[attr-defined]


def test_page_section_dialogue_prefix_and_next_question(tmp_path: Path) -> None:
    train, titles, bridge = QuACScenario().get_instances(str(_cache(tmp_path)))
    assert [i.split for i in (train, titles, bridge)] == ["train", "valid", "valid"]
    # Three turns: two are shown with the teacher's answers, the third is asked ("CANNOTANSWER" cut off).
    assert titles.input == (
        "Title: Racing Club\n\n"
        "Background: Racing Club is a football club from the city of Lens.\n\n"
        "Section: History\n"
        "Passage: The club was founded in 1899 by a group of students. It won its first league title in 1905 "
        "and a second one in 1912, then moved to a new stadium.\n\n"
        "Question: When was the club founded?\nAnswer: in 1899\n\n"
        "Question: Who founded it?\nAnswer: a group of students.\n\n"
        "Question: What titles did it win?"
    )
    # Five annotators' answers, two distinct ones, in order of first appearance.
    assert _references(titles) == ["its first league title in 1905", "a second one in 1912"]


def test_cannotanswer_accepts_plain_phrasings(tmp_path: Path) -> None:
    bridge = QuACScenario().get_instances(str(_cache(tmp_path)))[2]
    assert bridge.input.endswith("Answer: eight years\n\nQuestion: Who designed it?")
    assert _references(bridge) == ["CANNOTANSWER", "Not enough information", "Cannot answer", "Do not know"]


def test_the_stopping_point_leaves_at_least_two_complete_turns(tmp_path: Path) -> None:
    train = QuACScenario().get_instances(str(_cache(tmp_path)))[0]
    shown = train.input.count("\nAnswer: ")
    assert shown in (2, 3)  # four turns: the third or the fourth is asked
    turns = [
        ("When did she start painting?", "at the age of ten"),
        ("Where was her first exhibition?", "Her first exhibition was held in Lyon in 1921."),
        ("Did she move?", "She later moved to Paris,"),
        ("What did she do in Paris?", "she taught at an art school."),
    ]
    for question, answer in turns[:shown]:
        assert f"Question: {question}\nAnswer: {answer}\n\n" in train.input
    assert train.input.endswith(f"Question: {turns[shown][0]}")
    assert _references(train) == [turns[shown][1]]
    assert QuACScenario().get_instances(str(tmp_path))[0] == train  # the draw is fixed


def test_a_file_in_another_format_is_named(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    (cache / "data" / "val_v0.2.json").write_text('{"version": 2}')
    with pytest.raises(ScenarioDataError, match=r"val_v0\.2\.json: expected a JSON object with a 'data' list"):
        QuACScenario().get_instances(str(cache))
    (cache / "data" / "val_v0.2.json").write_text('{"data": [{"title": "t", "paragraphs": [{"qas": [{}]}]}]}')
    with pytest.raises(ScenarioDataError, match=r"val_v0\.2\.json: not in the QuAC format \(KeyError: 'context'\)"):
        QuACScenario().get_instances(str(cache))
    (cache / "data" / "val_v0.2.json").write_text(
        '{"data": [{"title": "t", "paragraphs": [{"id": "C_1", "qas": []}]}]}'
    )
    with pytest.raises(ScenarioDataError, match=r"val_v0\.2\.json: .*dialogue 'C_1' of 't' has no turns"):
        QuACScenario().get_instances(str(cache))


def test_offline_without_cache_names_url_and_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_quac, "BASE_URL", "http://127.0.0.1:9/my89public/quac")
    with pytest.raises(ScenarioDataError) as error:
        QuACScenario().get_instances(str(tmp_path))
    assert "http://127.0.0.1:9/my89public/quac/train_v0.2.json" in str(error.value)
    assert str(tmp_path / "data" / "train_v0.2.json") in str(error.value)
