"""`wiki`: fact completion from Wikidata (HELM's WikiFact), one relation at a time.

Source: HELM's fact-completion data, built from the Wikidata dump
(https://dumps.wikimedia.org/wikidatawiki/entities/latest-all.json.gz; Wikidata's structured data is CC0), and
published as `train.jsonl`, `dev.jsonl` and `test.jsonl` at
https://worksheets.codalab.org/rest/bundles/0x8c3b60eb7c6b462e822a150f194d3b35/contents/blob/<file>.

Format: JSON lines, one (subject, relation, object) fact per line. The loader reads `property` (the relation's
Wikidata id, e.g. `P31`, "instance of"), `template` (the subject and relation as the start of a sentence,
e.g. "Doug Eckerty is an instance of") and `result_names` (the correct objects: a list of lists of names, one
list of aliases per object); other keys are ignored. Each fact of the chosen relation is one instance whose
input is the template and whose correct references are every object name, e.g. "human".
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any, ClassVar

from bench._errors import ScenarioDataError
from bench._instance import CORRECT_TAG, TEST_SPLIT, TRAIN_SPLIT, VALID_SPLIT, Instance, Reference
from bench.scenarios._download import ensure_file_downloaded
from bench.scenarios._scenario import Scenario, scenario

logger = logging.getLogger(__name__)

SOURCE_URL = "https://worksheets.codalab.org/rest/bundles/0x8c3b60eb7c6b462e822a150f194d3b35/contents/blob/{file}"
SPLIT_FILES: dict[str, str] = {"train.jsonl": TRAIN_SPLIT, "dev.jsonl": VALID_SPLIT, "test.jsonl": TEST_SPLIT}
_PROPERTY_ID = re.compile(r"P[1-9][0-9]*")


def check_property(subject: str) -> None:
    """Raise ValueError unless `subject` is a Wikidata property id such as P31."""
    if not _PROPERTY_ID.fullmatch(subject):
        raise ValueError(f"subject {subject!r} is not valid; give a Wikidata property id such as P31 (instance of)")


def object_names(result_names: Any) -> list[str]:
    """The distinct, stripped names of `result_names` (a list of alias lists, or a flat list), in order."""
    names: list[str] = []
    for entry in result_names:
        for name in [entry] if isinstance(entry, str) else entry:
            if not isinstance(name, str):
                raise ValueError(f"result_names holds {name!r}, not a name")
            if name.strip() and name.strip() not in names:
                names.append(name.strip())
    return names


def parse_facts(lines: list[str], subject: str, split: str) -> list[Instance]:
    """Instances for the facts of relation `subject` among WikiFact JSON lines."""
    instances = []
    for line in lines:
        if not line.strip():
            continue
        fact = json.loads(line)
        if fact["property"] != subject:
            continue
        names = object_names(fact["result_names"])
        if not names:
            continue
        instances.append(
            Instance(
                input=fact["template"].strip(),
                references=tuple(Reference(output=name, tags=(CORRECT_TAG,)) for name in names),
                split=split,
            )
        )
    return instances


@scenario("wiki")
class WikiFactScenario(Scenario):
    """Complete "<subject> <relation>" with the object, e.g. "Paris is the capital of" -> "France"."""

    name: ClassVar[str] = "wiki"
    description: ClassVar[str] = "Fact completion from Wikidata (WikiFact)"
    tags: ClassVar[tuple[str, ...]] = ("knowledge", "generation")

    def __init__(self, subject: str = "P31", source_url: str = SOURCE_URL) -> None:
        """Args:
            subject: the relation, as a Wikidata property id (P31 "instance of", P36 "capital", ...).
            source_url: where the split files are published; `{file}` is filled in.

        Raises:
            ValueError: if `subject` is not a property id.
        """
        check_property(subject)
        self.subject = subject
        self.source_url = source_url

    def get_instances(self, output_path: str) -> list[Instance]:
        """Train, valid then test instances, each in file order.

        Raises:
            ScenarioDataError: if a file cannot be downloaded or read, or the relation has no facts.
        """
        instances: list[Instance] = []
        for file, split in SPLIT_FILES.items():
            path = ensure_file_downloaded(self.source_url.format(file=file), Path(output_path) / file)
            try:
                instances.extend(parse_facts(path.read_text(encoding="utf-8").splitlines(), self.subject, split))
            except (ValueError, KeyError, TypeError) as e:
                problem = f"missing field {e}" if isinstance(e, KeyError) else str(e)
                raise ScenarioDataError(f"wiki: cannot read {path}: {problem}") from None
        if not any(instance.split != TRAIN_SPLIT for instance in instances):
            raise ScenarioDataError(f"wiki: no evaluation facts for relation {self.subject} in {output_path}")
        logger.info("wiki %s: %d facts", self.subject, len(instances))
        return instances
