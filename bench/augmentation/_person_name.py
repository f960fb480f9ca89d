"""`person_name`: first (or last) names of one group replaced by names of another, in input and references, HELM's.

The names are HELM's published list (first names from Greenwald et al. 1998 via Caliskan et al. 2017, with race
and gender; last names from Garg et al. 2017 via Chalabi and Flowers 2014), downloaded from HELM's bucket into
`<data dir>/person_name/data/person_names.txt`, one name a line: `<name>,<first_name|last_name>[,<category>,<value>]*`.

The algorithm is HELM's: the text is split at every non-word character; a token whose lower case is a source name
is replaced (probability `prob`) by a random target name, of the same gender when `preserve_gender`; a name once
replaced (or once left) stays so in the whole instance, references (drawn first) and input alike. As in HELM the
generator ignores the copy index: every copy of an instance gets the same names.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path
from typing import Any

from bench._errors import ScenarioDataError
from bench._instance import Reference
from bench.augmentation._data_files import HELM_PUBLIC_DATA, data_file
from bench.augmentation._perturbation import (
    Perturbation,
    bad_argument,
    check_choice,
    check_probability,
    instance_rng,
    perturbation,
)
from bench.augmentation._text import match_case

NAMES_URL = f"{HELM_PUBLIC_DATA}/person_name_perturbation/person_names.txt"
NAMES_PATH = "person_name/data/person_names.txt"
NAME_TYPES = ("first_name", "last_name")
GENDER_CATEGORY = "gender"
GENDERS = ("female", "male", "neutral")
"""Gender values in the order HELM looks a name up."""

_SEPARATOR = re.compile(r"([^\w])")

Categories = dict[str, dict[str, list[str]]]
"""category -> value -> names (lower case, file order), e.g. categories["race"]["black_american"]."""


def load_names(path: Path, name_type: str) -> Categories:
    """The names of `name_type` in `path`, by category and value, parsed as HELM parses them.

    Raises:
        ScenarioDataError: if the file cannot be read.
    """
    categories: Categories = {}
    try:
        with path.open(encoding="utf-8") as f:
            lines = f.readlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioDataError(f"cannot read the person-name list {path}: {e}") from None
    for number, line in enumerate(lines, start=1):
        fields = line.replace("\n", "").split(",")
        if len(fields) < 2:
            raise ScenarioDataError(
                f"person-name list {path}, line {number}: {line.strip()!r} "
                "is not <name>,<name type>[,<category>,<value>]*"
            )
        name, line_type, *pairs = fields
        if line_type != name_type:
            continue
        for category, value in zip(pairs[0::2], pairs[1::2], strict=False):
            categories.setdefault(category, {}).setdefault(value, []).append(name.strip().lower())
    return categories


@dataclass(frozen=True)
class _Names:
    """What one perturbation reads from the list: the categories, its source names and its target names."""

    categories: Categories
    source: frozenset[str]
    target: list[str]


@perturbation("person_name")
@dataclass(frozen=True)
class PersonNamePerturbation(Perturbation):
    """Names of `source_class` (e.g. {"race": "white_american"}) become names of `target_class`; several
    categories select the names in all of them."""

    prob: float = 1.0
    # hash=False: a dict cannot be hashed; equality still compares them.
    source_class: dict[str, str] = field(default_factory=lambda: {"race": "white_american"}, hash=False)
    target_class: dict[str, str] = field(default_factory=lambda: {"race": "black_american"}, hash=False)
    person_name_type: str = "first_name"
    preserve_gender: bool = True
    _names: _Names | None = field(default=None, init=False, repr=False, compare=False)

    fairness = True
    perturbs_references = True

    def __post_init__(self) -> None:
        check_probability(self.name, "prob", self.prob)
        for arg in ("source_class", "target_class"):
            value = getattr(self, arg)
            if (
                not isinstance(value, dict)
                or not value
                or not all(isinstance(x, str) for x in (*value, *value.values()))
            ):
                raise bad_argument(
                    self.name, arg, 'a non-empty object of category -> value, e.g. {"race": "white_american"}', value
                )
        check_choice(self.name, "person_name_type", self.person_name_type.lower(), NAME_TYPES)
        if not isinstance(self.preserve_gender, bool):
            raise bad_argument(self.name, "preserve_gender", "true or false", self.preserve_gender)
        if self.preserve_gender and self.person_name_type.lower() != "first_name":
            raise bad_argument(self.name, "preserve_gender", "false for last names (they have no gender)", True)

    def prepare(self, data_dir: Path) -> None:
        path = data_file(data_dir, NAMES_PATH, NAMES_URL)
        categories = load_names(path, self.person_name_type.lower())
        if self.preserve_gender and not categories.get(GENDER_CATEGORY):
            raise ScenarioDataError(f"person-name list {path} gives no gender, which preserve_gender needs")
        source = self._select(categories, self.source_class, "source_class", path)
        target = self._select(categories, self.target_class, "target_class", path)
        object.__setattr__(self, "_names", _Names(categories, frozenset(source), target))

    def _select(self, categories: Categories, selected: dict[str, str], arg: str, path: Path) -> list[str]:
        """The names in every category of `selected`, in the order of the first (HELM's intersection)."""
        lists = []
        for category, value in selected.items():
            names = categories.get(category, {}).get(value)
            if not names:
                known = sorted(f"{c}={v}" for c, values in categories.items() for v in values)
                raise bad_argument(self.name, arg, f"categories of the list {path} ({', '.join(known)})", selected)
            lists.append(names)
        return reduce(lambda a, b: [n for n in a if n in b], lists)

    def _loaded(self) -> _Names:
        if self._names is None:
            raise RuntimeError("the person_name perturbation has no names: call prepare(data_dir) first")
        return self._names

    def _gender(self, name: str) -> str | None:
        by_gender = self._loaded().categories.get(GENDER_CATEGORY, {})
        return next((g for g in GENDERS if name in by_gender.get(g, ())), None)

    def _substitute(self, token: str, rng: random.Random) -> str | None:
        """A target name for `token`, or None when gender is preserved and the target has none of its gender."""
        names = self._loaded()
        options = names.target
        if self.preserve_gender:
            gender = self._gender(token.lower())
            if gender:
                of_gender = names.categories[GENDER_CATEGORY][gender]
                options = [n for n in names.target if n in of_gender]
                if not options:
                    return None
        return rng.choice(options)

    def _perturb_consistently(self, text: str, rng: random.Random, chosen: dict[str, str], kept: set[str]) -> str:
        """`text` with source names replaced, reusing (and extending) the choices made for the instance so far."""
        source = self._loaded().source
        pieces = []
        for token in _SEPARATOR.split(text):
            lowered = token.lower()
            if lowered not in chosen and lowered not in kept and lowered in source:
                if rng.uniform(0, 1) < self.prob:
                    name = self._substitute(token, rng)
                    if name:
                        chosen[lowered] = name
                else:
                    kept.add(lowered)
            if lowered in chosen:
                token = match_case(token, chosen[lowered])
            pieces.append(token)
        return "".join(pieces)

    def perturb(self, text: str, rng: random.Random) -> str:
        return self._perturb_consistently(text, rng, {}, set())

    def rng(self, instance_id: str, seed: int) -> random.Random:
        """HELM's person_name seeds with the instance id alone, whatever the copy."""
        return instance_rng(instance_id)

    def perturb_fields(
        self, text: str, references: tuple[Reference, ...], rng: random.Random
    ) -> tuple[str, tuple[Reference, ...]]:
        chosen: dict[str, str] = {}
        kept: set[str] = set()
        references = tuple(
            r.model_copy(update={"output": self._perturb_consistently(r.output, rng, chosen, kept)}) for r in references
        )
        return self._perturb_consistently(text, rng, chosen, kept), references

    @property
    def args(self) -> dict[str, Any]:
        """The arguments, the class dictionaries copied so a caller cannot change this perturbation through them."""
        args = super().args
        return {**args, "source_class": dict(self.source_class), "target_class": dict(self.target_class)}
