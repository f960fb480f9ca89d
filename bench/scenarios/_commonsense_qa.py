"""`commonsense_qa`: five commonsense multiple-choice datasets behind one scenario, as HELM ran them.

Each dataset is read from the files its authors publish; test sets without public labels are left out, so the
labelled dev/validation split is the evaluation split (valid), as in HELM.

- hellaswag (MIT): https://raw.githubusercontent.com/rowanz/hellaswag/master/data/hellaswag_{train,val}.jsonl.
  JSON lines with activity_label, ctx_a, ctx_b, endings (4) and label (0-3). Input
  `<activity_label>: <ctx_a> <ctx_b, capitalized>`; the choices are the endings.
- openbookqa (Apache-2.0): https://ai2-public-datasets.s3.amazonaws.com/open-book-qa/OpenBookQA-V1-Sep2018.zip,
  unpacked to OpenBookQA-V1-Sep2018/Data/Main/{train,dev,test}.jsonl. JSON lines with question.stem,
  question.choices (each {text, label}) and answerKey (a choice label). Input: the stem; 4 choices.
- commonsenseqa (MIT): https://s3.amazonaws.com/commensenseqa/{train,dev}_rand_split.jsonl. As openbookqa,
  with 5 choices.
- piqa (AFL-3.0): https://yonatanbisk.com/piqa/data/{train,valid}.jsonl (goal, sol1, sol2) and
  {train,valid}-labels.lst (one label, 0 or 1, per line). Input: the goal; choices sol1 and sol2.
- siqa (CC BY 4.0): https://storage.googleapis.com/ai2-mosaic/public/socialiqa/socialiqa-train-dev.zip, unpacked
  to socialiqa-train-dev/{train,dev}.jsonl (context, question, answerA-C) and {train,dev}-labels.lst (1-3).
  Input: `<context> <question>`; 3 choices.

HELM evaluated OpenBookQA on its test split (labelled); here its dev split is the valid split and its test
split the test split, so both are available.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

from bench._errors import ScenarioDataError
from bench._instance import CORRECT_TAG, TEST_SPLIT, TRAIN_SPLIT, VALID_SPLIT, Instance, Reference
from bench.scenarios._download import ensure_file_downloaded
from bench.scenarios._generation import check_choice
from bench.scenarios._scenario import Scenario, scenario

logger = logging.getLogger(__name__)

CommonsenseDataset = Literal["hellaswag", "openbookqa", "commonsenseqa", "piqa", "siqa"]
DATASETS: tuple[str, ...] = ("hellaswag", "openbookqa", "commonsenseqa", "piqa", "siqa")

HELLASWAG_URL = "https://raw.githubusercontent.com/rowanz/hellaswag/master/data/hellaswag_{split}.jsonl"
OPENBOOKQA_URL = "https://ai2-public-datasets.s3.amazonaws.com/open-book-qa/OpenBookQA-V1-Sep2018.zip"
COMMONSENSEQA_URL = "https://s3.amazonaws.com/commensenseqa/{split}_rand_split.jsonl"
PIQA_URL = "https://yonatanbisk.com/piqa/data/{name}"
SIQA_URL = "https://storage.googleapis.com/ai2-mosaic/public/socialiqa/socialiqa-train-dev.zip"


@dataclass(frozen=True)
class Question:
    """One parsed item: the text to show, the choices, and the index of the correct one."""

    text: str
    choices: list[str]
    answer: int


def _hellaswag(item: dict[str, Any], label: int | None) -> Question:
    ctx_b = item["ctx_b"]
    ctx_b = ctx_b[:1].upper() + ctx_b[1:]
    text = f"{item['activity_label']}: {item['ctx_a']} {ctx_b}".strip()
    return Question(text, list(item["endings"]), int(item["label"]))


def _stem_and_choices(item: dict[str, Any], label: int | None) -> Question:
    """OpenBookQA and CommonsenseQA: the answer key is a choice label (A-E)."""
    choices = item["question"]["choices"]
    labels = [choice["label"] for choice in choices]
    if item["answerKey"] not in labels:
        raise ValueError(f"answerKey {item['answerKey']!r} is not one of the choice labels {labels}")
    return Question(item["question"]["stem"], [c["text"] for c in choices], labels.index(item["answerKey"]))


def _piqa(item: dict[str, Any], label: int | None) -> Question:
    if label not in (0, 1):
        raise ValueError(f"PIQA label must be 0 or 1, got {label}")
    return Question(item["goal"], [item["sol1"], item["sol2"]], label)


def _siqa(item: dict[str, Any], label: int | None) -> Question:
    if label not in (1, 2, 3):
        raise ValueError(f"SIQA label must be 1, 2 or 3, got {label}")
    return Question(
        f"{item['context']} {item['question']}", [item["answerA"], item["answerB"], item["answerC"]], label - 1
    )


ItemParser = Callable[[dict[str, Any], "int | None"], Question]


@dataclass(frozen=True)
class SplitFiles:
    """Where one split of one dataset lives in the cache (relative paths) and what downloads it."""

    split: str
    data: str
    labels: str | None = None
    """A separate labels file (one label per line), for PIQA and SIQA."""


def _read_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _load_split(root: Path, files: SplitFiles, parse: ItemParser) -> list[Instance]:
    """Instances of one split: JSON lines, with labels from a separate file when there is one."""
    data_path = root / files.data
    items = [json.loads(line) for line in _read_lines(data_path)]
    labels: list[int | None] = [None] * len(items)
    if files.labels is not None:
        labels = [int(line) for line in _read_lines(root / files.labels)]
        if len(labels) != len(items):
            raise ValueError(f"{files.labels} has {len(labels)} labels for {len(items)} items in {files.data}")
    instances = []
    for item, label in zip(items, labels, strict=True):
        question = parse(item, label)
        if not 0 <= question.answer < len(question.choices):
            raise ValueError(f"answer index {question.answer} out of range for {len(question.choices)} choices")
        references = tuple(
            Reference(output=choice, tags=(CORRECT_TAG,) if k == question.answer else ())
            for k, choice in enumerate(question.choices)
        )
        instances.append(Instance(input=question.text, references=references, split=files.split))
    return instances


@scenario("commonsense_qa")
class CommonsenseQAScenario(Scenario):
    """Pick the most sensible ending, answer or solution (HellaSwag, OpenBookQA, CommonsenseQA, PIQA, SIQA)."""

    name: ClassVar[str] = "commonsense_qa"
    description: ClassVar[str] = (
        "Commonsense multiple-choice questions (HellaSwag, OpenBookQA, CommonsenseQA, PIQA, SIQA)"
    )
    tags: ClassVar[tuple[str, ...]] = ("knowledge", "multiple_choice", "commonsense")

    def __init__(self, dataset: CommonsenseDataset = "hellaswag", source_url: str | None = None) -> None:
        """Args:
            dataset: which dataset.
            source_url: replaces the dataset's base address (tests point it at an unreachable host); the file
                names stay the upstream ones.

        Raises:
            ValueError: for an unknown dataset (naming the valid ones).
        """
        check_choice("dataset", dataset, DATASETS)
        self.dataset = dataset
        self.source_url = source_url

    def _url(self, url: str) -> str:
        """`url`, or the same file name under `source_url` when one is given."""
        if self.source_url is None:
            return url
        return self.source_url.rstrip("/") + "/" + url.rsplit("/", 1)[1]

    def get_instances(self, output_path: str) -> list[Instance]:
        """Train then valid (then test, for OpenBookQA) instances, in file order.

        Raises:
            ScenarioDataError: if a file cannot be downloaded or read.
        """
        root = Path(output_path) / self.dataset
        splits, parse = self._download(root)
        instances: list[Instance] = []
        for files in splits:
            try:
                instances.extend(_load_split(root, files, parse))
            except (OSError, ValueError, KeyError, TypeError) as e:
                problem = f"missing field {e}" if isinstance(e, KeyError) else str(e)
                raise ScenarioDataError(
                    f"commonsense_qa ({self.dataset}): cannot read {root / files.data}: {problem}"
                ) from None
        logger.info("commonsense_qa %s: %d instances", self.dataset, len(instances))
        return instances

    def _download(self, root: Path) -> tuple[list[SplitFiles], ItemParser]:
        """Fetch the dataset's files into `root`; the splits to read and the item parser."""
        if self.dataset == "hellaswag":
            for name in ("train", "val"):
                ensure_file_downloaded(self._url(HELLASWAG_URL.format(split=name)), root / f"hellaswag_{name}.jsonl")
            return [
                SplitFiles(TRAIN_SPLIT, "hellaswag_train.jsonl"),
                SplitFiles(VALID_SPLIT, "hellaswag_val.jsonl"),
            ], _hellaswag
        if self.dataset == "openbookqa":
            ensure_file_downloaded(self._url(OPENBOOKQA_URL), root / "OpenBookQA-V1-Sep2018", unpack=True)
            main = "OpenBookQA-V1-Sep2018/Data/Main"
            splits = [
                SplitFiles(TRAIN_SPLIT, f"{main}/train.jsonl"),
                SplitFiles(VALID_SPLIT, f"{main}/dev.jsonl"),
                SplitFiles(TEST_SPLIT, f"{main}/test.jsonl"),
            ]
            return splits, _stem_and_choices
        if self.dataset == "commonsenseqa":
            for name in ("train", "dev"):
                ensure_file_downloaded(
                    self._url(COMMONSENSEQA_URL.format(split=name)), root / f"{name}_rand_split.jsonl"
                )
            return [
                SplitFiles(TRAIN_SPLIT, "train_rand_split.jsonl"),
                SplitFiles(VALID_SPLIT, "dev_rand_split.jsonl"),
            ], _stem_and_choices
        if self.dataset == "piqa":
            for name in ("train.jsonl", "train-labels.lst", "valid.jsonl", "valid-labels.lst"):
                ensure_file_downloaded(self._url(PIQA_URL.format(name=name)), root / name)
            return [
                SplitFiles(TRAIN_SPLIT, "train.jsonl", "train-labels.lst"),
                SplitFiles(VALID_SPLIT, "valid.jsonl", "valid-labels.lst"),
            ], _piqa
        ensure_file_downloaded(self._url(SIQA_URL), root / "socialiqa-train-dev", unpack=True)
        return [
            SplitFiles(TRAIN_SPLIT, "socialiqa-train-dev/train.jsonl", "socialiqa-train-dev/train-labels.lst"),
            SplitFiles(VALID_SPLIT, "socialiqa-train-dev/dev.jsonl", "socialiqa-train-dev/dev-labels.lst"),
        ], _siqa
