"""`mmlu`: Massive Multitask Language Understanding (Hendrycks et al., 2021), one subject per run.

Source: https://people.eecs.berkeley.edu/~hendrycks/data.tar (linked from https://github.com/hendrycks/test),
released under the MIT License (Copyright (c) 2020 Dan Hendrycks).

The archive holds one top-level folder `data/` with a CSV per subject and split, without a header:
`data/dev/<subject>_dev.csv`, `data/val/<subject>_val.csv`, `data/test/<subject>_test.csv`. Each row is
`question, choice A, choice B, choice C, choice D, answer letter`. The five dev questions of a subject are
its in-context examples (train split), val is the valid split and test the test split, as in HELM; the
`auxiliary_train` folder is not used.

The instance input is the question alone; the multiple-choice adapter adds the lettered choices:

    Question: Which of the following terms describes the body's ability to maintain its normal state?
    A. Anabolism
    B. Catabolism
    C. Tolerance
    D. Homeostasis
    Answer: D
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import ClassVar, Literal, get_args

from bench._errors import ScenarioDataError
from bench._instance import CORRECT_TAG, TEST_SPLIT, TRAIN_SPLIT, VALID_SPLIT, Instance, Reference
from bench.scenarios._download import ensure_file_downloaded
from bench.scenarios._generation import check_choice
from bench.scenarios._scenario import Scenario, scenario

DATA_URL = "https://people.eecs.berkeley.edu/~hendrycks/data.tar"
"""The archive of all subjects and splits (about 160 MB)."""

MMLUSubject = Literal[
    "abstract_algebra",
    "anatomy",
    "astronomy",
    "business_ethics",
    "clinical_knowledge",
    "college_biology",
    "college_chemistry",
    "college_computer_science",
    "college_mathematics",
    "college_medicine",
    "college_physics",
    "computer_security",
    "conceptual_physics",
    "econometrics",
    "electrical_engineering",
    "elementary_mathematics",
    "formal_logic",
    "global_facts",
    "high_school_biology",
    "high_school_chemistry",
    "high_school_computer_science",
    "high_school_european_history",
    "high_school_geography",
    "high_school_government_and_politics",
    "high_school_macroeconomics",
    "high_school_mathematics",
    "high_school_microeconomics",
    "high_school_physics",
    "high_school_psychology",
    "high_school_statistics",
    "high_school_us_history",
    "high_school_world_history",
    "human_aging",
    "human_sexuality",
    "international_law",
    "jurisprudence",
    "logical_fallacies",
    "machine_learning",
    "management",
    "marketing",
    "medical_genetics",
    "miscellaneous",
    "moral_disputes",
    "moral_scenarios",
    "nutrition",
    "philosophy",
    "prehistory",
    "professional_accounting",
    "professional_law",
    "professional_medicine",
    "professional_psychology",
    "public_relations",
    "security_studies",
    "sociology",
    "us_foreign_policy",
    "virology",
    "world_religions",
]
SUBJECTS: tuple[str, ...] = get_args(MMLUSubject)
"""The 57 subjects, as the file names spell them."""

SPLITS: dict[str, str] = {"dev": TRAIN_SPLIT, "val": VALID_SPLIT, "test": TEST_SPLIT}
"""Upstream split folder -> Mercury split."""


@scenario("mmlu")
class MMLUScenario(Scenario):
    """Four-way multiple-choice exam questions on one of 57 subjects."""

    name: ClassVar[str] = "mmlu"
    description: ClassVar[str] = "Massive Multitask Language Understanding: multiple-choice questions on 57 subjects"
    tags: ClassVar[tuple[str, ...]] = ("knowledge", "multiple_choice")

    def __init__(self, subject: MMLUSubject = "abstract_algebra") -> None:
        """Check the subject (no I/O: the data is read by get_instances).

        Raises:
            ValueError: for a subject that is not one of the 57 (the message lists them).
        """
        check_choice("subject", subject, SUBJECTS)
        self.subject = subject
        self.data_url = DATA_URL  # read now: the scenario object carries it to whichever process loads the data

    def get_instances(self, output_path: str) -> list[Instance]:
        """The subject's dev (train), val (valid) and test instances, downloading the archive once.

        Raises:
            ScenarioDataError: when the archive cannot be downloaded, or a file is missing or malformed.
        """
        data = ensure_file_downloaded(self.data_url, Path(output_path) / "data", unpack=True, unpack_type="untar")
        instances: list[Instance] = []
        for folder, split in SPLITS.items():
            instances.extend(read_split(data / folder / f"{self.subject}_{folder}.csv", split, self.data_url))
        return instances


def read_split(path: Path, split: str, data_url: str = DATA_URL) -> list[Instance]:
    """The instances of one headerless CSV file.

    Raises:
        ScenarioDataError: naming the file (and line) when it is missing or a row is malformed.
    """
    if not path.is_file():
        raise ScenarioDataError(
            f"{path} is missing from the MMLU data; delete {path.parent.parent} to download {data_url} again"
        )
    with path.open(encoding="utf-8", newline="") as f:
        return [_instance(row, split, f"{path}:{line}") for line, row in enumerate(csv.reader(f), start=1) if row]


def _instance(row: list[str], split: str, where: str) -> Instance:
    """One row `question, choices..., letter` as an instance whose references are the choices."""
    if len(row) < 4:
        raise ScenarioDataError(f"{where}: expected a question, at least two choices and a letter, got {row!r}")
    question, choices, letter = row[0], row[1:-1], row[-1].strip()
    letters = [chr(ord("A") + k) for k in range(len(choices))]
    if letter not in letters:
        raise ScenarioDataError(f"{where}: answer {letter!r} is not one of the choice letters {', '.join(letters)}")
    correct = letters.index(letter)
    references = tuple(
        Reference(output=choice, tags=(CORRECT_TAG,) if k == correct else ()) for k, choice in enumerate(choices)
    )
    return Instance(input=question, references=references, split=split)
