"""`PerturbationChain`: several perturbations applied in order to the same instance, as one perturbation.

A chain such as lowercase+typos models a user who types carelessly in more than one way at once. Its results
are reported under one name ("lowercase+typos"), in the views of every part (robustness if any part is).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench._instance import Reference
from bench._object_spec import PerturbationSpec
from bench.augmentation._perturbation import Perturbation


class PerturbationChain(Perturbation):
    """Applies `parts` in order; references are rewritten only by the parts that rewrite references."""

    def __init__(self, parts: Sequence[Perturbation]) -> None:
        """Raises:
        ValueError: if `parts` is empty.
        """
        if not parts:
            raise ValueError("a perturbation chain needs at least one perturbation")
        self.parts: tuple[Perturbation, ...] = tuple(parts)
        self.name = "+".join(part.name for part in self.parts)
        self.robustness = any(part.robustness for part in self.parts)
        self.fairness = any(part.fairness for part in self.parts)
        self.perturbs_references = any(part.perturbs_references for part in self.parts)

    @property
    def args(self) -> dict[str, Any]:
        """Each part's args under its name; a name seen again gets "#2", "#3", ... ("typos", "typos#2")."""
        args: dict[str, Any] = {}
        for part in self.parts:
            key, count = part.name, 1
            while key in args:
                count += 1
                key = f"{part.name}#{count}"
            args[key] = part.args
        return args

    def to_spec(self) -> tuple[PerturbationSpec, ...]:
        specs: list[PerturbationSpec] = []
        for part in self.parts:
            spec = part.to_spec()
            specs.extend(spec if isinstance(spec, tuple) else (spec,))
        return tuple(specs)

    def prepare(self, data_dir: Path) -> None:
        for part in self.parts:
            part.prepare(data_dir)

    def perturb(self, text: str, rng: random.Random) -> str:
        for part in self.parts:
            text = part.perturb(text, rng)
        return text

    def perturb_fields(
        self, text: str, references: tuple[Reference, ...], rng: random.Random
    ) -> tuple[str, tuple[Reference, ...]]:
        for part in self.parts:
            text, references = part.perturb_fields(text, references, rng)
        return text, references

    def __repr__(self) -> str:
        return f"PerturbationChain({list(self.parts)!r})"
