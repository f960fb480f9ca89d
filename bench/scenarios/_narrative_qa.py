"""`narrative_qa`: questions about the summary of a book or film script (Kočiský et al., 2018).

Source: https://github.com/deepmind/narrativeqa/archive/master.zip (the repository
https://github.com/deepmind/narrativeqa, Apache License 2.0; its Wikipedia summaries are under the
Creative Commons Attribution-ShareAlike license, CC BY-SA 3.0).

The archive unpacks to `narrativeqa-master/`. Two CSV files (with a header) are read:
- `third_party/wikipedia/summaries.csv`: document_id, set, summary, summary_tokenized;
- `qaps.csv`: document_id, set, question, answer1, answer2, question_tokenized, answer1_tokenized,
  answer2_tokenized.
`set` is train, valid or test, which are Mercury's split names. This is the summaries-only setting: one
question per document is drawn (with a fixed seed), and both human answers are correct references. The
input follows HELM:

    Mark Hunter (Slater), a high school student in a sleepy suburb of Phoenix, Arizona, starts ...
    Question: Who is Mark Hunter?
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import ClassVar

from bench._errors import ScenarioDataError
from bench._instance import ALL_SPLITS, CORRECT_TAG, Instance, Reference
from bench.scenarios._download import ensure_file_downloaded
from bench.scenarios._scenario import Scenario, scenario

REPO_URL = "https://github.com/deepmind/narrativeqa/archive/master.zip"
"""The repository as a zip archive (summaries and question-answer pairs, without the full stories)."""

REPO_FOLDER = "narrativeqa-master"
SUMMARIES_FILE = Path("third_party", "wikipedia", "summaries.csv")
QAPS_FILE = Path("qaps.csv")

SEED = "narrative_qa"
"""Seed of the draw of one question per document (a string: stable across processes)."""


@scenario("narrative_qa")
class NarrativeQAScenario(Scenario):
    """Answer a question about a story from its summary."""

    name: ClassVar[str] = "narrative_qa"
    description: ClassVar[str] = "Question answering using summaries of books and movie scripts"
    tags: ClassVar[tuple[str, ...]] = ("question_answering",)

    def get_instances(self, output_path: str) -> list[Instance]:
        """One instance per document, train then valid then test, downloading the archive once.

        Raises:
            ScenarioDataError: when the archive cannot be downloaded, or a file is missing or malformed.
        """
        repo = ensure_file_downloaded(REPO_URL, Path(output_path) / "data" / REPO_FOLDER, unpack=True)
        summaries = _read_rows(repo / SUMMARIES_FILE, ("document_id", "set", "summary"))
        qaps = _read_rows(repo / QAPS_FILE, ("document_id", "set", "question", "answer1", "answer2"))
        summary_of = {row["document_id"]: row["summary"] for row in summaries}
        rng = random.Random(SEED)
        instances: list[Instance] = []
        for split in ALL_SPLITS:
            for document_id, rows in _questions_by_document(qaps, split).items():
                if document_id not in summary_of:
                    raise ScenarioDataError(f"{repo / QAPS_FILE}: document {document_id} has no summary")
                instances.append(_instance(summary_of[document_id], rng.choice(rows), split))
        return instances


def _read_rows(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """The rows of a CSV file with a header that has at least `columns`.

    Raises:
        ScenarioDataError: naming the file when it is missing or lacks a column.
    """
    if not path.is_file():
        raise ScenarioDataError(f"{path} is missing from the NarrativeQA data; delete its folder to download again")
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in columns if c not in (reader.fieldnames or ())]
        if missing:
            raise ScenarioDataError(f"{path}: missing columns {missing} (header: {reader.fieldnames})")
        return list(reader)


def _questions_by_document(qaps: list[dict[str, str]], split: str) -> dict[str, list[dict[str, str]]]:
    """The question rows of `split`, grouped by document in file order."""
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in qaps:
        if row["set"] == split:
            grouped.setdefault(row["document_id"], []).append(row)
    return grouped


def _instance(summary: str, row: dict[str, str], split: str) -> Instance:
    question = row["question"].strip()
    if not question.endswith("?"):
        question += "?"
    answers = dict.fromkeys([row["answer1"], row["answer2"]])  # both are correct; once if they are the same
    return Instance(
        input=f"{summary.strip()}\nQuestion: {question}",
        references=tuple(Reference(output=a, tags=(CORRECT_TAG,)) for a in answers),
        split=split,
    )
