"""`boolq`: naturally occurring yes/no questions about a Wikipedia passage (Clark et al., 2019).

Source: https://storage.googleapis.com/boolq/train.jsonl and https://storage.googleapis.com/boolq/dev.jsonl
(linked from https://github.com/google-research-datasets/boolean-questions), released under the Creative
Commons Attribution-ShareAlike 3.0 license (CC BY-SA 3.0).

Each line of a file is a JSON object with the keys `question` (lowercase, no question mark), `title`,
`answer` (true or false) and `passage`. train.jsonl (9,427 questions) is the train split, dev.jsonl (3,270)
the valid split; the test answers are not public. The input follows HELM (after GPT-3's Figure G.29): the
passage, then the question capitalized with a question mark; the answer is "Yes" or "No":

    Epsom railway station serves the town of Epsom in Surrey. ...
    Question: Can you use oyster card at epsom station?

HELM's contrast sets (human-perturbed questions) are not part of this scenario.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from bench._errors import ScenarioDataError
from bench._instance import CORRECT_TAG, TRAIN_SPLIT, VALID_SPLIT, Instance, Reference
from bench.scenarios._download import downloaded_files
from bench.scenarios._scenario import Scenario, scenario

BASE_URL = "https://storage.googleapis.com/boolq"
"""Folder of the published files; each split is `<BASE_URL>/<file>`."""

FILES: dict[str, str] = {"train.jsonl": TRAIN_SPLIT, "dev.jsonl": VALID_SPLIT}
"""Upstream file -> Mercury split."""


@scenario("boolq")
class BoolQScenario(Scenario):
    """Answer a yes/no question about a passage."""

    name: ClassVar[str] = "boolq"
    description: ClassVar[str] = "Question answering dataset with naturally occurring yes/no questions"
    tags: ClassVar[tuple[str, ...]] = ("question_answering",)

    def get_instances(self, output_path: str) -> list[Instance]:
        """Train then valid instances, downloading each file once.

        Raises:
            ScenarioDataError: when a file cannot be downloaded or a line is malformed.
        """
        instances: list[Instance] = []
        paths = downloaded_files(BASE_URL, FILES, Path(output_path) / "data")
        for split, path in zip(FILES.values(), paths):
            instances.extend(read_split(path, split))
        return instances


def read_split(path: Path, split: str) -> list[Instance]:
    """The instances of one JSON-lines file.

    Raises:
        ScenarioDataError: naming the file and line of a malformed record.
    """
    instances = []
    with path.open(encoding="utf-8") as f:
        for line_number, line in enumerate(f, start=1):
            if line.strip():
                instances.append(_instance(_record(line, f"{path}:{line_number}"), split))
    return instances


def _record(line: str, where: str) -> dict[str, Any]:
    """One record, checked for the keys and types the scenario reads."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise ScenarioDataError(f"{where}: not valid JSON ({e})") from None
    if not isinstance(record, dict):
        raise ScenarioDataError(f"{where}: expected a JSON object, got {type(record).__name__}")
    for key, kind in (("question", str), ("passage", str), ("answer", bool)):
        if not isinstance(record.get(key), kind):
            raise ScenarioDataError(f"{where}: key {key!r} must be a {kind.__name__}, got {record.get(key)!r}")
    return record


def _instance(record: dict[str, Any], split: str) -> Instance:
    question = record["question"].strip().rstrip("?").capitalize() + "?"
    return Instance(
        input=f"{record['passage']}\nQuestion: {question}",
        references=(Reference(output="Yes" if record["answer"] else "No", tags=(CORRECT_TAG,)),),
        split=split,
    )
