"""`the_pile`: language modeling on one subset of The Pile's test split (Gao et al., 2020).

Source: https://the-eye.eu/public/AI/pile/test.jsonl.zst (the address HELM used, on the-eye's mirror host
mystic.the-eye.eu). License: The Pile is released under the MIT license for the compilation; each component
keeps its own terms (see the paper's datasheet).

Format: Zstandard-compressed JSON lines, one document per line:
`{"text": "...", "meta": {"pile_set_name": "ArXiv"}}`. The compressed file is kept as downloaded (it is much
smaller than the text) and read as a stream with the `zstandard` package. The first run for a subset writes its
documents once to `<subset>.jsonl` beside it (to a temporary name, then moved), so later runs read only those.

Every document of the subset is one test instance (its text is the input; no references). HELM additionally
kept a fixed subsample per subset from EleutherAI's lm_perplexity indices; here `max_eval_instances` draws the
evaluation subset (fixed seed) instead.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar, Literal

from bench._errors import ScenarioDataError
from bench._instance import TEST_SPLIT, Instance
from bench.scenarios._download import ensure_file_downloaded
from bench.scenarios._generation import check_choice
from bench.scenarios._scenario import Scenario, scenario

logger = logging.getLogger(__name__)

SOURCE_URL = "https://the-eye.eu/public/AI/pile/test.jsonl.zst"
ARCHIVE_NAME = "test.jsonl.zst"

PileSubset = Literal[
    "ArXiv",
    "BookCorpus2",
    "Books3",
    "DM Mathematics",
    "Enron Emails",
    "EuroParl",
    "FreeLaw",
    "Github",
    "Gutenberg (PG-19)",
    "HackerNews",
    "NIH ExPorter",
    "OpenSubtitles",
    "OpenWebText2",
    "PhilPapers",
    "Pile-CC",
    "PubMed Abstracts",
    "PubMed Central",
    "StackExchange",
    "USPTO Backgrounds",
    "Ubuntu IRC",
    "Wikipedia (en)",
    "YoutubeSubtitles",
]
SUBSETS: tuple[str, ...] = PileSubset.__args__  # type: ignore[attr-defined]


def subset_file_name(subset: str) -> str:
    """A file name for a subset's documents: `Gutenberg (PG-19)` -> `Gutenberg_PG-19.jsonl`."""
    return re.sub(r"[^A-Za-z0-9-]+", "_", subset).strip("_") + ".jsonl"


def read_zst_lines(path: Path) -> Iterator[str]:
    """The text lines of a Zstandard-compressed file, decompressed as a stream.

    Raises:
        ScenarioDataError: if the zstandard package is missing.
    """
    try:
        import zstandard
    except ImportError:
        raise ScenarioDataError("the_pile needs the 'zstandard' package (pip install zstandard)") from None
    with path.open("rb") as raw:
        reader = zstandard.ZstdDecompressor().stream_reader(raw)
        yield from io.TextIOWrapper(reader, encoding="utf-8")


def subset_documents(lines: Iterator[str], subset: str) -> Iterator[str]:
    """The texts of the documents of `subset` among Pile JSON lines."""
    for line in lines:
        if not line.strip():
            continue
        document = json.loads(line)
        if document["meta"]["pile_set_name"] == subset:
            yield document["text"]


@scenario("the_pile")
class ThePileScenario(Scenario):
    """Score every token of The Pile's test documents of one subset."""

    name: ClassVar[str] = "the_pile"
    description: ClassVar[str] = "Language modeling on The Pile (test split, one subset)"
    tags: ClassVar[tuple[str, ...]] = ("language_modeling",)

    def __init__(self, subset: PileSubset = "ArXiv", source_url: str = SOURCE_URL) -> None:
        """Args:
            subset: the Pile component (its `meta.pile_set_name`).
            source_url: where test.jsonl.zst is published.

        Raises:
            ValueError: for an unknown subset (naming the valid ones).
        """
        check_choice("subset", subset, SUBSETS)
        self.subset = subset
        self.source_url = source_url

    def get_instances(self, output_path: str) -> list[Instance]:
        """One test instance per document of the subset, in file order.

        Raises:
            ScenarioDataError: if the file cannot be downloaded or read.
        """
        root = Path(output_path)
        subset_path = root / subset_file_name(self.subset)
        if not subset_path.exists():
            archive = ensure_file_downloaded(self.source_url, root / ARCHIVE_NAME)
            self._cache_subset(archive, subset_path)
        with subset_path.open(encoding="utf-8") as f:
            texts = [json.loads(line)["text"] for line in f if line.strip()]
        logger.info("the_pile %s: %d documents", self.subset, len(texts))
        return [Instance(input=text, split=TEST_SPLIT) for text in texts]

    def _cache_subset(self, archive: Path, subset_path: Path) -> None:
        """Write the subset's documents to `subset_path` (complete or not at all)."""
        handle, tmp_name = tempfile.mkstemp(dir=subset_path.parent, prefix=f".{subset_path.name}.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                for text in subset_documents(read_zst_lines(archive), self.subset):
                    out.write(json.dumps({"text": text}) + "\n")
            os.replace(tmp_name, subset_path)
        except Exception as e:
            Path(tmp_name).unlink(missing_ok=True)
            data_error = isinstance(e, (ValueError, KeyError, TypeError, OSError)) or type(e).__name__ == "ZstdError"
            if isinstance(e, ScenarioDataError) or not data_error:
                raise
            problem = f"missing field {e}" if isinstance(e, KeyError) else f"{type(e).__name__}: {e}"
            raise ScenarioDataError(f"the_pile: cannot read {archive}: {problem}") from None
