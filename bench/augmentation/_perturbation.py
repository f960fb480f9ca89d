"""The `Perturbation` interface, its registry, and the seeding that makes every perturbation reproducible.

A perturbation rewrites text (`perturb`) and knows how to apply itself to an `Instance` (`apply`): robustness
perturbations change only the input, because the expected answer to a question with a typo is the same answer;
fairness perturbations (gender, dialect) change the references too, because "his book" asked about should be
answered "her book" once the input speaks of a woman.

The random generator of one application is seeded from a SHA-256 hash of (instance id, perturbation name and
arguments, seed index), never from Python's salted `hash()`, so the same instance gets the same perturbation in
any process, on any machine and in any order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, TypeVar

from bench._instance import Instance, PerturbationDescription, Reference
from bench._object_spec import PerturbationSpec
from bench._registry import Registry

PERTURBATIONS: Registry[type[Perturbation]] = Registry("perturbation")

P = TypeVar("P", bound="type[Perturbation]")


def perturbation(name: str) -> Callable[[P], P]:
    """Register a perturbation class under `name` (and set its `name`); PerturbationSpec(name=...) builds it.

    Raises:
        ValueError: if `name` is already registered to another class.
    """

    def decorator(cls: P) -> P:
        cls.name = name
        PERTURBATIONS.add(name, cls)
        return cls

    return decorator


def seeded_rng(instance_id: str, name: str, args: dict[str, Any], seed: int) -> random.Random:
    """A generator seeded from a stable hash of (instance id, perturbation name and args, seed index)."""
    key = json.dumps([instance_id, name, args, seed], sort_keys=True, default=str)
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


class Perturbation(ABC):
    """Rewrites text; `apply` makes a perturbed copy of an instance.

    Built-in perturbations are frozen dataclasses whose fields are their arguments, so `args` and `to_spec`
    turn a built perturbation back into the spec that built it.
    """

    name: str = ""
    """Registered name (set by `@perturbation`), e.g. "typos"."""
    robustness: bool = False
    """Results on its copies count toward robustness."""
    fairness: bool = False
    """Results on its copies count toward fairness."""
    perturbs_references: bool = False
    """Whether references are rewritten as well as the input (fairness perturbations do)."""

    @abstractmethod
    def perturb(self, text: str, rng: random.Random) -> str:
        """The perturbed `text`; all randomness comes from `rng`."""

    @property
    def args(self) -> dict[str, Any]:
        """Arguments of this perturbation (its dataclass fields), as JSON-ready values."""
        if dataclasses.is_dataclass(self):
            return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}
        return {}

    @property
    def description(self) -> PerturbationDescription:
        """What instances perturbed by this perturbation are tagged with."""
        return PerturbationDescription(
            name=self.name, robustness=self.robustness, fairness=self.fairness, args=self.args
        )

    def to_spec(self) -> PerturbationSpec | tuple[PerturbationSpec, ...]:
        """The spec that builds this perturbation again, with every argument explicit."""
        return PerturbationSpec(name=self.name, args=self.args)

    def rng(self, instance_id: str, seed: int) -> random.Random:
        """The generator for one application to the instance `instance_id` with seed index `seed`."""
        return seeded_rng(instance_id, self.name, self.args, seed)

    def perturb_fields(
        self, text: str, references: tuple[Reference, ...], rng: random.Random
    ) -> tuple[str, tuple[Reference, ...]]:
        """The perturbed input and references (input first, then references in order, one shared `rng`)."""
        new_text = self.perturb(text, rng)
        if not self.perturbs_references:
            return new_text, references
        new_references = tuple(r.model_copy(update={"output": self.perturb(r.output, rng)}) for r in references)
        return new_text, new_references

    def apply(self, instance: Instance, seed: int = 0) -> Instance:
        """A copy of `instance` with perturbed input (and references if applicable), tagged with `description`.

        The copy keeps the instance's id: metrics group an instance's variants by id and perturbation.

        Args:
            instance: an instance with an id (the id seeds the perturbation).
            seed: index of the perturbed copy, 0 to seeds_per_instance - 1.

        Raises:
            ValueError: if the instance has no id.
        """
        if instance.id is None:
            raise ValueError(f"perturbation {self.name!r} needs instance ids; the runner assigns them first")
        text, references = self.perturb_fields(instance.input, instance.references, self.rng(instance.id, seed))
        return instance.model_copy(update={"input": text, "references": references, "perturbation": self.description})


def bad_argument(perturbation_name: str, arg: str, rule: str, value: object) -> ValueError:
    """`perturbation 'x': argument 'a' must be <rule>, got <value>`."""
    return ValueError(f"perturbation {perturbation_name!r}: argument {arg!r} must be {rule}, got {value!r}")


def check_probability(perturbation_name: str, arg: str, value: object) -> None:
    """Refuse anything but a number in [0, 1].

    Raises:
        ValueError: naming the perturbation and the argument.
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise bad_argument(perturbation_name, arg, "a number in [0, 1]", value)


def check_choice(perturbation_name: str, arg: str, value: object, choices: tuple[str, ...]) -> None:
    """Refuse a value outside `choices`.

    Raises:
        ValueError: naming the perturbation and the argument.
    """
    if value not in choices:
        raise bad_argument(perturbation_name, arg, "one of " + ", ".join(repr(c) for c in choices), value)
