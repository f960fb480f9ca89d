"""`babi_qa`: the 20 bAbI reasoning tasks (Weston et al., 2015), as HELM runs them.

Source: http://www.thespermwhale.com/jaseweston/babi/tasks_1-20_v1-2.tar.gz (bAbI tasks v1.2, Facebook AI
Research; license CC BY 3.0). The archive unpacks to `tasks_1-20_v1-2/`; as HELM does, the loader reads the
English 1k-example version with a validation split, `en-valid/qa{N}_{train,valid,test}.txt` (the same stories as
`en/qa{N}_<name>_{train,test}.txt`, with part of train held out as valid).

File format: one line per sentence, `<id> <text>`; ids restart at 1 for each new story. A question line is
`<id> <question>\\t<answer>\\t<supporting fact ids>`. Each question becomes one instance whose passage is every
statement of its story before it (earlier questions are not repeated), e.g.

    Passage: Mary moved to the bathroom. John went to the hallway.
    Question: Where is Mary?
    Answer: bathroom

Task 19 (path finding) answers such as `s,w` are spelled out (`south west`), as HELM does, so that the answer
reads as words; task 8 answers (lists such as `apple,football`) are kept as written.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

from bench._errors import ScenarioDataError
from bench._instance import CORRECT_TAG, TEST_SPLIT, TRAIN_SPLIT, VALID_SPLIT, Instance, Reference
from bench.scenarios._download import ensure_file_downloaded
from bench.scenarios._generation import check_range
from bench.scenarios._scenario import Scenario, scenario

logger = logging.getLogger(__name__)

SOURCE_URL = "http://www.thespermwhale.com/jaseweston/babi/tasks_1-20_v1-2.tar.gz"
ARCHIVE_FOLDER = "tasks_1-20_v1-2"
SPLITS: dict[str, str] = {"train": TRAIN_SPLIT, "valid": VALID_SPLIT, "test": TEST_SPLIT}
"""File suffix -> split."""
DIRECTIONS: dict[str, str] = {"n": "north", "s": "south", "e": "east", "w": "west"}
PATH_FINDING_TASK = 19


def spell_path(path: str) -> str:
    """A task 19 answer `s,w` as words: `south west`.

    Raises:
        ValueError: for a step that is not n, s, e or w.
    """
    steps = path.split(",")
    unknown = [step for step in steps if step not in DIRECTIONS]
    if unknown:
        raise ValueError(f"path {path!r} has steps {unknown}; expected n, s, e or w")
    return " ".join(DIRECTIONS[step] for step in steps)


def parse_babi(lines: list[str], task: int, split: str) -> list[Instance]:
    """Instances of one bAbI file's lines (see the module docstring for the format)."""
    instances: list[Instance] = []
    story: list[str] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        sentence_id, _, text = line.partition(" ")
        if not sentence_id.isdigit():
            raise ValueError(f"line {number} does not start with a sentence id: {line!r}")
        if sentence_id == "1":
            story = []
        if "\t" not in text:
            story.append(text.strip())
            continue
        question, answer = (part.strip() for part in text.split("\t")[:2])
        if task == PATH_FINDING_TASK:
            answer = spell_path(answer)
        passage = " ".join(story)
        instances.append(
            Instance(
                input=f"Passage: {passage}\nQuestion: {question}",
                references=(Reference(output=answer, tags=(CORRECT_TAG,)),),
                split=split,
            )
        )
    return instances


@scenario("babi_qa")
class BabiQAScenario(Scenario):
    """Answer a question about a short story of simple statements (bAbI tasks 1-20)."""

    name: ClassVar[str] = "babi_qa"
    description: ClassVar[str] = "Question answering with reasoning over short stories (bAbI tasks 1-20)"
    tags: ClassVar[tuple[str, ...]] = ("question_answering", "reasoning")

    def __init__(self, task: int = 1, source_url: str = SOURCE_URL) -> None:
        """Args:
            task: the bAbI task, 1 to 20.
            source_url: where the archive is published (tests point it elsewhere).

        Raises:
            ValueError: for a task outside 1..20.
        """
        check_range("task", task, 1, 20)
        self.task = task
        self.source_url = source_url

    def get_instances(self, output_path: str) -> list[Instance]:
        """Train, valid and test instances of the task, in file order.

        Raises:
            ScenarioDataError: if the archive cannot be downloaded or a file is missing or malformed.
        """
        root = ensure_file_downloaded(self.source_url, Path(output_path) / ARCHIVE_FOLDER, unpack=True)
        instances: list[Instance] = []
        for suffix, split in SPLITS.items():
            path = root / "en-valid" / f"qa{self.task}_{suffix}.txt"
            if not path.exists():
                raise ScenarioDataError(f"babi_qa: {path} is missing; the archive {self.source_url} looks incomplete")
            try:
                instances.extend(parse_babi(path.read_text(encoding="utf-8").splitlines(), self.task, split))
            except ValueError as e:
                raise ScenarioDataError(f"babi_qa: cannot read {path}: {e}") from None
        logger.info("babi_qa task %d: %d instances", self.task, len(instances))
        return instances
