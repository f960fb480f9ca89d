"""`copyright`: how much of a book or program a model reproduces from its opening (HELM's copyright scenario).

Source: HELM's book-prefix data (Liang et al., 2022, after Carlini et al., "Extracting training data from large
language models"), one JSON file per data tag, published on Google Drive and downloaded from
https://drive.google.com/uc?id=<file id> (ids below). The texts are excerpts of copyrighted books
(BookCorpus, popular books) and of GPL-licensed Linux kernel source, shared for research on memorization.

Format: `{"meta_data": {...}, "data": {"<prefix>": "<prefix><rest of the text>", ...}}`. Each entry is one test
instance: the prefix is the input, and the single correct reference is the rest of the text after the prefix
(HELM keeps prefix plus rest and cuts the prefix off in its metric; it is cut here, once).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import ClassVar, Literal

from bench._errors import ScenarioDataError
from bench._instance import CORRECT_TAG, TEST_SPLIT, Instance, Reference
from bench.scenarios._download import ensure_file_downloaded
from bench.scenarios._generation import check_choice
from bench.scenarios._scenario import Scenario, scenario

logger = logging.getLogger(__name__)

SOURCE_URL = "https://drive.google.com/uc?id={file_id}"

FILE_IDS: dict[str, str] = {
    "pilot": "1NwzDx19uzIwBuw7Lq5CSytG7jIth2wJ-",
    "n_books_1000-extractions_per_book_1-prefix_length_5": "16nQD8Nq3ma4K2EZLXHcahG9fcBDxS-zB",
    "n_books_1000-extractions_per_book_1-prefix_length_25": "108sZcMjzY7mvyy1p5Rw62_A8A1I2zM2S",
    "n_books_1000-extractions_per_book_1-prefix_length_125": "10uC4jM6tgI1pgtq--07FFHQ2Te7-SXGA",
    "n_books_1000-extractions_per_book_3-prefix_length_5": "1byrafXv2iULcZArxguJZp2LyFxswX7fN",
    "n_books_1000-extractions_per_book_3-prefix_length_25": "13QOKOd5Fpu5cVu1HRBYxzRcQzwhcPhjD",
    "n_books_1000-extractions_per_book_3-prefix_length_125": "1Y6QvYStCJVanHaI67Pxep3HakWL2cIRP",
    "popular_books-prefix_length_5.json": "11f5aB8IO_iseVdolvW_D3aZ9xeiLCAuv",
    "popular_books-prefix_length_10.json": "1oG9dMz1WiJZiuoXqw4ahFf1HmKWQtwJh",
    "popular_books-prefix_length_25.json": "1dN208HdBD6koaOHQlSDPkOnBrY3-9AfE",
    "popular_books-prefix_length_50.json": "1W_8C6QnISfFkc0tZtKdXKNhoTfgSCrbP",
    "popular_books-prefix_length_125.json": "1RT29rRKNNXKgZBhXNbqevLwR440g44it",
    "popular_books-prefix_length_250.json": "1KcQ3EJGAZO6fSqYXRH5eK122h1hUKZTp",
    "oh_the_places": "1KXqhO14HmCGQ67tuu2ECGbTGloTkBvzt",
    "prompt_num_line_1-min_lines_20.json": "1OLFyW5u7govgIw3ztsZ_5yYV0YpGzi-3",
    "prompt_num_line_5-min_lines_20.json": "1YbDvyAv9hT0BaZ5LV6Y-Y8tGezrBnBAT",
    "prompt_num_line_10-min_lines_20.json": "1Y5piYwil7T6n8toT_-d7NWqVZHh9NVxJ",
}
"""Google Drive file id of each data tag (HELM's names; some end in .json, as HELM spells them)."""

CopyrightDatatag = Literal[
    "pilot",
    "n_books_1000-extractions_per_book_1-prefix_length_5",
    "n_books_1000-extractions_per_book_1-prefix_length_25",
    "n_books_1000-extractions_per_book_1-prefix_length_125",
    "n_books_1000-extractions_per_book_3-prefix_length_5",
    "n_books_1000-extractions_per_book_3-prefix_length_25",
    "n_books_1000-extractions_per_book_3-prefix_length_125",
    "popular_books-prefix_length_5.json",
    "popular_books-prefix_length_10.json",
    "popular_books-prefix_length_25.json",
    "popular_books-prefix_length_50.json",
    "popular_books-prefix_length_125.json",
    "popular_books-prefix_length_250.json",
    "oh_the_places",
    "prompt_num_line_1-min_lines_20.json",
    "prompt_num_line_5-min_lines_20.json",
    "prompt_num_line_10-min_lines_20.json",
]
DATATAGS: tuple[str, ...] = tuple(FILE_IDS)
CODE_DATATAGS: tuple[str, ...] = tuple(tag for tag in DATATAGS if tag.startswith("prompt_num_line"))
"""Data tags of source code, where whitespace matters (the metrics keep it)."""


def parse_copyright(data: object) -> list[Instance]:
    """Instances of a copyright data file's JSON (see the module docstring)."""
    if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
        raise ValueError('expected an object with a "data" object mapping prefixes to texts')
    instances = []
    for prefix, text in data["data"].items():
        if not isinstance(text, str):
            raise ValueError(f"the text after prefix {prefix[:40]!r} is not a string")
        rest = text[len(prefix) :] if text.startswith(prefix) else text
        instances.append(
            Instance(input=prefix, references=(Reference(output=rest, tags=(CORRECT_TAG,)),), split=TEST_SPLIT)
        )
    return instances


@scenario("copyright")
class CopyrightScenario(Scenario):
    """Continue the opening of a book or source file; the metrics measure verbatim reproduction."""

    name: ClassVar[str] = "copyright"
    description: ClassVar[str] = "Data extraction from book and source-code prefixes (copyright risk)"
    tags: ClassVar[tuple[str, ...]] = ("harms", "copyright")

    def __init__(self, datatag: CopyrightDatatag = "pilot", source_url: str = SOURCE_URL) -> None:
        """Args:
            datatag: which data file (HELM's tag).
            source_url: where the file is published; `{file_id}` is filled in.

        Raises:
            ValueError: for an unknown data tag (naming the valid ones).
        """
        check_choice("datatag", datatag, DATATAGS)
        self.datatag = datatag
        self.source_url = source_url.format(file_id=FILE_IDS[datatag])

    def get_instances(self, output_path: str) -> list[Instance]:
        """One test instance per prefix, in file order.

        Raises:
            ScenarioDataError: if the file cannot be downloaded or read.
        """
        name = self.datatag if self.datatag.endswith(".json") else f"{self.datatag}.json"
        path = ensure_file_downloaded(self.source_url, Path(output_path) / name)
        try:
            instances = parse_copyright(json.loads(path.read_text(encoding="utf-8")))
        except ValueError as e:
            raise ScenarioDataError(f"copyright: cannot read {path}: {e}") from None
        logger.info("copyright %s: %d prefixes", self.datatag, len(instances))
        return instances
