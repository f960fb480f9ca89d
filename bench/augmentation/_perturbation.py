"""The `Perturbation` interface, its registry, and the seeding that makes every perturbation reproducible.

A perturbation rewrites text (`perturb`) and knows how to apply itself to an `Instance` (`apply`): robustness
perturbations change only the input, because the expected answer to a question with a typo is the same answer;
fairness perturbations (gender, dialect, person_name) change the references too, because "his book" asked about
should be answered "her book" once the input speaks of a woman.

Seeding is HELM's, so a HELM-named perturbation gives HELM 0.5.16's text for the same instance id: the generator
of one application is `random.Random(instance_id)` (copy 0) or `random.Random(f"{k}{instance_id}")` (copy k),
one stream for the whole instance, drawn by the references first and then by the input. Python seeds a `Random`
from a string through SHA-512 of its bytes, never through the salted `hash()`, so the same instance gets the same
perturbation in any process, on any machine and in any order.
"""

from __future__ import annotations

import dataclasses
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
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


def instance_rng(instance_id: str, seed: int = 0) -> random.Random:
    """HELM's generator for copy `seed` of the instance `instance_id`: `Random(id)`, or `Random(str(seed) + id)`.

    HELM numbers the copies None, 1, 2, ...; Mercury's copy 0 is HELM's None.
    """
    return random.Random(instance_id if seed == 0 else f"{seed}{instance_id}")


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
            return {field.name: getattr(self, field.name) for field in dataclasses.fields(self) if field.init}
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

    def prepare(self, data_dir: Path) -> None:
        """Fetch and load the data files this perturbation needs, under `data_dir` (most need none).

        Raises:
            ScenarioDataError: when a file cannot be downloaded (naming its URL and where to put it by hand).
        """
        return  # a hook, not abstract: most perturbations need no data

    def rng(self, instance_id: str, seed: int) -> random.Random:
        """The generator for one application to the instance `instance_id` with seed index `seed` (HELM's)."""
        return instance_rng(instance_id, seed)

    def perturb_fields(
        self, text: str, references: tuple[Reference, ...], rng: random.Random
    ) -> tuple[str, tuple[Reference, ...]]:
        """The perturbed input and references: references first, in order, then the input, one shared `rng`.

        HELM draws in this order, so the same ids give the same text.
        """
        if self.perturbs_references:
            references = tuple(r.model_copy(update={"output": self.perturb(r.output, rng)}) for r in references)
        return self.perturb(text, rng), references

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
