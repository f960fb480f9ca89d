"""`quac`: question answering in context, a student-teacher dialogue about a Wikipedia section (Choi et al., 2018).

Source: https://s3.amazonaws.com/my89public/quac/train_v0.2.json and
https://s3.amazonaws.com/my89public/quac/val_v0.2.json (http://quac.ai/), released under the Creative Commons
Attribution-ShareAlike 4.0 license (CC BY-SA 4.0).

Each file is one JSON object `{"data": [...]}` in the SQuAD layout. An entry has `title`, `background`,
`section_title` and `paragraphs`; a paragraph is one dialogue: `context` (the section text, ending in
" CANNOTANSWER") and `qas`, the turns, each with `question`, `answers` (list of `text`, `answer_start`),
`orig_answer` (the teacher's answer in the dialogue), `id`, `followup` and `yesno`. train_v0.2.json (11,567
dialogues) is the train split, val_v0.2.json (1,000 dialogues, five answers per turn) the valid split.

One instance per dialogue: the page, the section, then a prefix of the dialogue (at least two turns, the
stopping point drawn with a fixed seed) and the next question. HELM drops the turn just before the
question from the prefix; here the prefix is complete.

    Title: Augusto Pinochet

    Background: Augusto Jose Ramon Pinochet Ugarte ... was a Chilean general, ...

    Section: Accusations of fascism
    Passage: Pinochet and his government have been characterised as fascist. ...

    Question: What were the accusations?
    Answer: Griffin included Pinochet in a group of pseudo-populist despots ...

    Question: Is there something else interesting to know?

The references are the distinct answers of that turn; when the only answer is CANNOTANSWER, the phrasings
"Not enough information", "Cannot answer" and "Do not know" are correct too.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, ClassVar

from bench._errors import ScenarioDataError
from bench._instance import CORRECT_TAG, TRAIN_SPLIT, VALID_SPLIT, Instance, Reference
from bench.scenarios._download import downloaded_files
from bench.scenarios._scenario import Scenario, scenario

BASE_URL = "https://s3.amazonaws.com/my89public/quac"
FILES: dict[str, str] = {"train_v0.2.json": TRAIN_SPLIT, "val_v0.2.json": VALID_SPLIT}
"""Upstream file -> Mercury split."""

CANNOT_ANSWER = "CANNOTANSWER"
CANNOT_ANSWER_PHRASINGS: tuple[str, ...] = ("Not enough information", "Cannot answer", "Do not know")
MIN_PREVIOUS_TURNS = 2

SEED = "quac"
"""Seed of the draw of each dialogue's stopping point (a string: stable across processes)."""


@scenario("quac")
class QuACScenario(Scenario):
    """Answer the next question of an information-seeking dialogue."""

    name: ClassVar[str] = "quac"
    description: ClassVar[str] = "Question answering from dialogue prompts (QuAC)"
    tags: ClassVar[tuple[str, ...]] = ("question_answering",)

    def get_instances(self, output_path: str) -> list[Instance]:
        """One instance per dialogue, train then valid, downloading each file once.

        Raises:
            ScenarioDataError: when a file cannot be downloaded or is malformed.
        """
        rng = random.Random(SEED)
        instances: list[Instance] = []
        paths = downloaded_files(BASE_URL, FILES, Path(output_path) / "data")
        for split, path in zip(FILES.values(), paths):
            try:
                for entry in _entries(path):
                    instances.extend(_instance(entry, dialogue, split, rng) for dialogue in entry["paragraphs"])
            except (KeyError, TypeError, IndexError, ValueError) as e:
                raise ScenarioDataError(f"{path}: not in the QuAC format ({type(e).__name__}: {e})") from None
        return instances


def _entries(path: Path) -> list[dict[str, Any]]:
    try:
        with path.open(encoding="utf-8") as f:
            entries = json.load(f)["data"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise ScenarioDataError(f"{path}: expected a JSON object with a 'data' list ({e})") from None
    if not isinstance(entries, list):
        raise ScenarioDataError(f"{path}: 'data' must be a list, got {type(entries).__name__}")
    return entries


def _instance(entry: dict[str, Any], dialogue: dict[str, Any], split: str, rng: random.Random) -> Instance:
    """The page, the section, a prefix of the dialogue and the next question; its answers as references."""
    turns = dialogue["qas"]
    if not turns:
        raise ValueError(f"dialogue {dialogue.get('id')!r} of {entry.get('title')!r} has no turns")
    asked = rng.randint(min(MIN_PREVIOUS_TURNS, len(turns) - 1), len(turns) - 1)
    context = dialogue["context"].removesuffix(CANNOT_ANSWER).rstrip()
    parts = [
        f"Title: {entry['title']}",
        f"Background: {entry['background']}",
        f"Section: {entry['section_title']}\nPassage: {context}",
        *(f"Question: {turn['question']}\nAnswer: {turn['orig_answer']['text']}" for turn in turns[:asked]),
        f"Question: {turns[asked]['question']}",
    ]
    answers = list(dict.fromkeys(answer["text"] for answer in turns[asked]["answers"]))
    if answers == [CANNOT_ANSWER]:
        answers.extend(CANNOT_ANSWER_PHRASINGS)
    return Instance(
        input="\n\n".join(parts),
        references=tuple(Reference(output=a, tags=(CORRECT_TAG,)) for a in answers),
        split=split,
    )
