"""narrative_qa: summaries.csv and qaps.csv read from the unpacked repository archive; offline message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import ScenarioDataError
from bench.scenarios import _narrative_qa
from bench.scenarios._narrative_qa import NarrativeQAScenario

FIXTURE = Path(__file__).parents[2] / "fixtures" / "narrative_qa"

QUESTIONS = {
    "Where does Ada work?": ["In a lighthouse.", "On a remote island"],
    "Who wrote the message?": ["Tom, an old sailor.", "An old sailor named Tom."],
    "What does Lena win?": ["A royal contest."],  # both answers are the same: one reference
    "What is Ortiz looking for?": ["A lost city.", "The lost city in the desert."],
    "Who betrays Ortiz?": ["His guide.", "The guide"],
}
SUMMARIES = {
    "train": "Ada, a lighthouse keeper on a remote island, finds a message in a bottle.\n"
    "She sails to the mainland to find the writer, an old sailor named Tom.",
    "valid": "The young baker Lena enters a royal contest and wins with a cake shaped like the castle.",
    "test": "Captain Ortiz leads an expedition through the desert to find a lost city, but his guide betrays him.",
}


def _cache(tmp_path: Path) -> Path:
    """<cache>/data/narrativeqa-master/{qaps.csv, third_party/wikipedia/summaries.csv}: the unpacked zip."""
    shutil.copytree(FIXTURE, tmp_path, dirs_exist_ok=True)
    return tmp_path


def test_one_question_per_document_with_both_answers(tmp_path: Path) -> None:
    instances = NarrativeQAScenario().get_instances(str(_cache(tmp_path)))
    assert [i.split for i in instances] == ["train", "valid", "test"]  # one document per split
    for instance in instances:
        summary, question_line = instance.input.rsplit("\n", 1)
        assert summary == SUMMARIES[instance.split]  # stripped, inner newline kept
        question = question_line.removeprefix("Question: ")
        assert question in QUESTIONS  # a question mark is added where it is missing
        assert [r.output for r in instance.references] == QUESTIONS[question]
        assert all(r.is_correct for r in instance.references)
    assert instances[1].input.endswith("\nQuestion: What does Lena win?")
    # The draw is fixed: a second read gives the same instances.
    assert NarrativeQAScenario().get_instances(str(tmp_path)) == instances


def test_a_question_about_an_unknown_document_is_an_error(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    qaps = cache / "data" / "narrativeqa-master" / "qaps.csv"
    qaps.write_text(qaps.read_text() + "ffff,test,Why?,No.,None.,Why ?,No .,None .\n")
    with pytest.raises(ScenarioDataError, match="document ffff has no summary"):
        NarrativeQAScenario().get_instances(str(cache))


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    (cache / "data" / "narrativeqa-master" / "qaps.csv").write_text("document_id,set,question\nx,train,q\n")
    with pytest.raises(ScenarioDataError, match=r"qaps\.csv: missing columns \['answer1', 'answer2'\]"):
        NarrativeQAScenario().get_instances(str(cache))


def test_offline_without_cache_names_url_and_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_narrative_qa, "REPO_URL", "http://127.0.0.1:9/deepmind/narrativeqa/archive/master.zip")
    with pytest.raises(ScenarioDataError) as error:
        NarrativeQAScenario().get_instances(str(tmp_path))
    assert "http://127.0.0.1:9/deepmind/narrativeqa/archive/master.zip" in str(error.value)
    assert str(tmp_path / "data" / "narrativeqa-master") in str(error.value)
