"""`natural_qa`: real Google search questions answered from Wikipedia (Kwiatkowski et al., 2019).

Source: https://storage.googleapis.com/natural_questions/v1.0/dev/nq-dev-00.jsonl.gz ... nq-dev-04.jsonl.gz
(https://github.com/google-research-datasets/natural-questions), released under the Creative Commons
Attribution-ShareAlike 3.0 license (CC BY-SA 3.0).

Each file is gzipped JSON lines, one example per line, in the full format: `example_id`, `question_text`,
`document_title`, `document_url`, `document_html`, `document_tokens` (each `token`, `start_byte`,
`end_byte`, `html_token`), `long_answer_candidates` and `annotations` (each `long_answer` and
`short_answers` as spans with `start_byte`/`end_byte` into the UTF-8 bytes of `document_html` and
`start_token`/`end_token`, plus `yes_no_answer`). Lines in the simplified format (`document_text`, spans by
token only) are read too, so a simplified file placed by hand works as well.

As in HELM, only the dev set is used (7,830 examples with five-way annotations), keeping examples with at
least one short answer; within each file, even-numbered examples are train and odd-numbered ones valid.
A train instance has one short answer (drawn with a fixed seed), a valid one every distinct short answer.
Three modes:
- closedbook: the question alone;
- openbook_longans: the long answer (the paragraph) that goes with the drawn short answer, then the question;
- openbook_wiki: the title and the whole page as text, then the question.

Parsing a 1 GB file takes a while, so the parsed examples are kept beside it (`<file>.instances.jsonl`).
"""

from __future__ import annotations

import gzip
import html
import json
import random
import re
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, get_args
from urllib.parse import parse_qs, urlparse

from bench._errors import ScenarioDataError
from bench._instance import CORRECT_TAG, TRAIN_SPLIT, VALID_SPLIT, Instance, Reference
from bench.scenarios._download import downloaded_files
from bench.scenarios._generation import check_choice
from bench.scenarios._scenario import Scenario, scenario

BASE_URL = "https://storage.googleapis.com/natural_questions/v1.0/dev"
FILES: tuple[str, ...] = tuple(f"nq-dev-{k:02d}.jsonl.gz" for k in range(5))

NaturalQAMode = Literal["closedbook", "openbook_longans", "openbook_wiki"]
MODES: tuple[str, ...] = get_args(NaturalQAMode)

SEED = "natural_qa"
"""Seed of the draw of one short answer per example (a string: stable across processes)."""

SpanText = Callable[[dict[str, Any]], str]
"""The text of an answer span of one example."""

TAG = re.compile(r"<[^>]*>")
SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class RawExample:
    """What an instance needs from one example; short_answers[k] lies in long_answers[k]."""

    title: str
    document: str
    question: str
    long_answers: list[str]
    short_answers: list[str]


@scenario("natural_qa")
class NaturalQAScenario(Scenario):
    """Answer a search question, with no context, its paragraph, or its whole Wikipedia page."""

    name: ClassVar[str] = "natural_qa"
    description: ClassVar[str] = "Question answering from Wikipedia (Natural Questions)"
    tags: ClassVar[tuple[str, ...]] = ("question_answering",)

    def __init__(self, mode: NaturalQAMode = "closedbook") -> None:
        """Check the mode (no I/O: the data is read by get_instances).

        Raises:
            ValueError: for an unknown mode (the message lists the valid ones).
        """
        check_choice("mode", mode, MODES)
        self.mode = mode

    def get_instances(self, output_path: str) -> list[Instance]:
        """Train and valid instances of the five dev files, downloading each file once.

        Raises:
            ScenarioDataError: when a file cannot be downloaded or is malformed.
        """
        rng = random.Random(SEED)
        instances: list[Instance] = []
        for path in downloaded_files(BASE_URL, FILES, Path(output_path) / "data"):
            for k, example in enumerate(read_examples(path)):
                instances.append(self._instance(example, TRAIN_SPLIT if k % 2 == 0 else VALID_SPLIT, rng))
        return instances

    def _instance(self, example: RawExample, split: str, rng: random.Random) -> Instance:
        question = example.question.capitalize()
        if not question.endswith("?"):
            question += "?"
        chosen = rng.randrange(len(example.short_answers))
        if self.mode == "closedbook":
            text = question
        elif self.mode == "openbook_longans":
            text = f"Passage: {example.long_answers[chosen]}\n\nQuestion: {question}"
        else:
            text = f"Title: {example.title}\n\nPassage: {example.document}\n\nQuestion: {question}"
        answers = (
            [example.short_answers[chosen]] if split == TRAIN_SPLIT else list(dict.fromkeys(example.short_answers))
        )
        return Instance(
            input=text, references=tuple(Reference(output=a, tags=(CORRECT_TAG,)) for a in answers), split=split
        )


def read_examples(path: Path) -> list[RawExample]:
    """The examples of a downloaded file that have a short answer, from the parsed copy beside it if present.

    Raises:
        ScenarioDataError: naming the file (and line) when it is not gzip or a line is malformed.
    """
    parsed = path.with_name(path.name + ".instances.jsonl")
    if parsed.is_file():
        try:
            with parsed.open(encoding="utf-8") as f:
                return [RawExample(**json.loads(line)) for line in f if line.strip()]
        except (json.JSONDecodeError, TypeError) as e:
            raise ScenarioDataError(f"{parsed}: unreadable ({e}); delete it to parse {path.name} again") from None
    examples = _parse(path)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{parsed.name}.", delete=False) as tmp:
        for example in examples:
            tmp.write(json.dumps(asdict(example)) + "\n")
    Path(tmp.name).rename(parsed)  # complete or absent, never half written
    return examples


def _parse(path: Path) -> list[RawExample]:
    examples = []
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line_number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{line_number}"
                try:
                    example = raw_example(json.loads(line))
                except (json.JSONDecodeError, KeyError, TypeError, IndexError) as e:
                    raise ScenarioDataError(
                        f"{where}: not a Natural Questions example ({type(e).__name__}: {e})"
                    ) from None
                if example is not None:
                    examples.append(example)
    except (OSError, EOFError, zlib.error) as e:
        raise ScenarioDataError(f"{path}: not a readable gzip file ({e}); delete it to download it again") from None
    return examples


def raw_example(sample: dict[str, Any]) -> RawExample | None:
    """The title, text, question and answers of one example (full or simplified format); None without a
    short answer (yes/no answers are not used)."""
    span_text = _full_span_text(sample) if "document_html" in sample else _simplified_span_text(sample)
    long_answers, short_answers = [], []
    for annotation in sample["annotations"]:
        for short in annotation["short_answers"]:
            short_answers.append(span_text(short))
            long_answers.append(span_text(annotation["long_answer"]))
    if not short_answers:
        return None
    if "document_html" in sample:
        words = [t["token"] for t in sample["document_tokens"] if not t["html_token"]]
        title = sample["document_title"]
    else:
        words = [w for w in sample["document_text"].split(" ") if not TAG.fullmatch(w)]
        title = _title_from_url(sample.get("document_url", ""))
    return RawExample(
        title=title,
        document=_clean(" ".join(words)),
        question=sample["question_text"],
        long_answers=long_answers,
        short_answers=short_answers,
    )


def _full_span_text(sample: dict[str, Any]) -> SpanText:
    """Spans are byte ranges of the page's HTML: the text is that HTML without tags and entities."""
    page = sample["document_html"].encode("utf-8")
    return lambda span: _clean(page[span["start_byte"] : span["end_byte"]].decode("utf-8", errors="replace"))


def _simplified_span_text(sample: dict[str, Any]) -> SpanText:
    """Spans are token ranges of `document_text` (tokens separated by single spaces, tags included)."""
    tokens = sample["document_text"].split(" ")
    return lambda span: _clean(" ".join(t for t in tokens[span["start_token"] : span["end_token"]]))


def _clean(text: str) -> str:
    """Text without HTML tags or entities, with single spaces (no-break spaces included)."""
    return SPACES.sub(" ", html.unescape(TAG.sub(" ", text)).replace("\xa0", " ")).strip()


def _title_from_url(url: str) -> str:
    """The page title in a Wikipedia URL (`...index.php?title=Email_marketing&amp;oldid=...`)."""
    titles = parse_qs(urlparse(html.unescape(url)).query).get("title", [""])
    return titles[0].replace("_", " ")
