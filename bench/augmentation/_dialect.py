"""`dialect`: Standard American English rewritten as African American Vernacular English, HELM's.

The mapping is HELM's published SAE-to-AAVE file (Ziems et al., 2022, https://github.com/GT-SALT/value/),
downloaded from HELM's bucket into `<data dir>/dialect/SAE_to_AAVE_mapping.json` (the file is a JSON object:
word -> list of replacements). Matching is HELM's: any key (any case) between two characters that are neither
word characters nor "-", the first key of the file's order winning at a position; each match is replaced with
probability `prob` by a random replacement in the case of the matched word. A word at the very start or end of a
text is never replaced, as in HELM. It changes surface form, not meaning: a gap in results is a fairness gap.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from bench._errors import ScenarioDataError
from bench.augmentation._data_files import HELM_PUBLIC_DATA, data_file
from bench.augmentation._perturbation import Perturbation, bad_argument, check_probability, perturbation
from bench.augmentation._text import match_case

MAPPING_URLS: dict[tuple[str, str], str] = {
    ("SAE", "AAVE"): f"{HELM_PUBLIC_DATA}/dialect_perturbation/SAE_to_AAVE_mapping.json",
}
"""(source, target) -> where HELM publishes the mapping."""


@dataclass(frozen=True)
class DialectMapping:
    """A loaded mapping and HELM's regex over its keys."""

    words: dict[str, list[str]]
    pattern: re.Pattern[str]


def load_mapping(path: Path) -> DialectMapping:
    """The mapping in `path` (a JSON object of word -> non-empty list of strings) with its regex.

    Raises:
        ScenarioDataError: naming the file and what is wrong with it.
    """
    try:
        words = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ScenarioDataError(f"cannot read the dialect mapping {path}: {e}") from None
    if not isinstance(words, dict) or not words:
        raise ScenarioDataError(f"dialect mapping {path} must be a non-empty JSON object of word -> [words]")
    for word, replacements in words.items():
        if not isinstance(replacements, list) or not replacements or not all(isinstance(r, str) for r in replacements):
            raise ScenarioDataError(
                f"dialect mapping {path}: entry {word!r} must be a non-empty list of strings, got {replacements!r}"
            )
    alternatives = "|".join(re.escape(w) for w in words)
    return DialectMapping(words, re.compile(f"[^\\w-]({alternatives})[^\\w-]", flags=re.IGNORECASE))


@perturbation("dialect")
@dataclass(frozen=True)
class DialectPerturbation(Perturbation):
    """Each mapped SAE word found is replaced, with probability `prob`, by one of its AAVE counterparts."""

    prob: float = 1.0
    source_class: str = "SAE"
    target_class: str = "AAVE"
    _mapping: DialectMapping | None = field(default=None, init=False, repr=False, compare=False)

    fairness = True
    perturbs_references = True

    def __post_init__(self) -> None:
        check_probability(self.name, "prob", self.prob)
        pair = (str(self.source_class).upper(), str(self.target_class).upper())
        if pair not in MAPPING_URLS:
            known = ", ".join(f"{s}->{t}" for s, t in MAPPING_URLS)
            raise bad_argument(self.name, "source_class, target_class", f"one of {known}", pair)

    @property
    def relative_path(self) -> str:
        """Where the mapping lives under the data folder (HELM's layout)."""
        return f"dialect/{self.source_class.upper()}_to_{self.target_class.upper()}_mapping.json"

    def prepare(self, data_dir: Path) -> None:
        url = MAPPING_URLS[(self.source_class.upper(), self.target_class.upper())]
        object.__setattr__(self, "_mapping", load_mapping(data_file(data_dir, self.relative_path, url)))

    def perturb(self, text: str, rng: random.Random) -> str:
        mapping = self._mapping
        if mapping is None:
            raise RuntimeError("the dialect perturbation has no mapping: call prepare(data_dir) first")

        def replace(match: re.Match[str]) -> str:
            whole, word = match.group(0), match.group(1)
            if rng.uniform(0, 1) < self.prob:
                replacement = match_case(word, rng.choice(mapping.words[word.lower()]))
                whole = whole.replace(word, replacement)
            return whole

        return mapping.pattern.sub(replace, text)
