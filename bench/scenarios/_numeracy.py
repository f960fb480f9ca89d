"""`numeracy`: infer an unknown polynomial from some of its points (after HELM's numeracy scenario).

Relation types (coefficients are small positive whole numbers, as in HELM):
- linear:     y = a*x + b
- parabola:   y = a*x^2 + b*x + c   (x >= 0, so that symmetry does not help)
- plane:      z = a*x + b*y + c
- paraboloid: z = a*x^2 + b*y^2 + c (x, y >= 0)

Modes:
- function (default): every instance has its own random function; its input lists `num_points` points of
  it and asks for the value at one more point. HELM's function mode is unfinished (it yields no instances);
  this is what it describes.
- standard: one random function for the whole scenario; train instances are points of it (the adapter's
  in-context examples), test instances are other points.
- example: as standard, with a fixed representative function per relation type.

Every point is written `x = 3, y = 11` (or `x = 1, y = 2, z = 9`); the point asked for is written without
its value (`x = 7`), and the run spec's output prefix (`, y = `) completes the line.

The domain is the smallest of HELM's symmetric ranges (x in [-c, c], or [0, c] for the parabolas) that
holds the points needed, so the numbers stay small where few points are needed (function mode).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar, Literal

from bench._instance import CORRECT_TAG, TEST_SPLIT, TRAIN_SPLIT, Instance, Reference
from bench.scenarios._generation import check_choice, check_range, draw_splits, split_rng
from bench.scenarios._scenario import Scenario, scenario

NumeracyRelationType = Literal["linear", "parabola", "plane", "paraboloid"]
NumeracyMode = Literal["function", "standard", "example"]
MODES: tuple[str, ...] = ("function", "standard", "example")

Point = tuple[int, ...]


@dataclass(frozen=True)
class RelationInfo:
    """A family of polynomials: its monomials, coefficient ranges and domain."""

    variables: tuple[str, ...]  # input variable names; the output is the next letter
    monomials: tuple[tuple[int, ...], ...]  # exponent of each variable, one tuple per coefficient
    coefficient_ranges: tuple[tuple[int, int], ...]  # inclusive, one per monomial
    nonnegative: bool  # domain [0, c] instead of [-c, c]
    example: tuple[int, ...]  # coefficients of the fixed function of mode `example`

    @property
    def output_variable(self) -> str:
        return "y" if self.variables == ("x",) else "z"


RELATIONS: dict[str, RelationInfo] = {
    "linear": RelationInfo(("x",), ((1,), (0,)), ((1, 5), (1, 5)), False, (3, 2)),
    "parabola": RelationInfo(("x",), ((2,), (1,), (0,)), ((1, 2), (0, 2), (1, 5)), True, (1, 1, 3)),
    "plane": RelationInfo(("x", "y"), ((1, 0), (0, 1), (0, 0)), ((1, 5), (1, 5), (1, 5)), False, (2, 3, 1)),
    "paraboloid": RelationInfo(("x", "y"), ((2, 0), (0, 2), (0, 0)), ((1, 2), (1, 2), (1, 5)), True, (1, 2, 4)),
}

DOMAIN_BOUNDS = (5, 10, 20, 50, 100, 200)
"""Candidate half-widths c of the domain, smallest first (HELM's choices from 5 up)."""


def monomial_values(info: RelationInfo, point: Point) -> list[int]:
    """The value of each monomial of the relation at `point` (x^2, x, 1 for a parabola)."""
    values = []
    for exponents in info.monomials:
        term = 1
        for value, exponent in zip(point, exponents):
            term *= value**exponent
        values.append(term)
    return values


def evaluate(info: RelationInfo, coefficients: tuple[int, ...], point: Point) -> int:
    """The value of the polynomial with `coefficients` at `point`."""
    return sum(c * m for c, m in zip(coefficients, monomial_values(info, point)))


def domain(info: RelationInfo, needed: int) -> list[Point]:
    """All integer points of the smallest domain with at least `needed` points, in a fixed order."""
    points: list[Point] = []
    for bound in DOMAIN_BOUNDS:
        axis = range(0, bound + 1) if info.nonnegative else range(-bound, bound + 1)
        points = list(itertools.product(axis, repeat=len(info.variables)))
        if len(points) >= needed:
            return points
    raise ValueError(f"{needed} distinct points were asked for; the largest domain has {len(points)}")


def identifiable(info: RelationInfo, points: list[Point]) -> bool:
    """Whether `points` determine the coefficients: their monomial values have full column rank."""
    rows = [[Fraction(v) for v in monomial_values(info, p)] for p in points]
    rank = 0
    for column in range(len(info.monomials)):
        pivot = next((r for r in range(rank, len(rows)) if rows[r][column] != 0), None)
        if pivot is None:
            continue
        rows[rank], rows[pivot] = rows[pivot], rows[rank]
        for r in range(len(rows)):
            if r != rank and rows[r][column] != 0:
                factor = rows[r][column] / rows[rank][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[rank])]
        rank += 1
    return rank == len(info.monomials)


def format_point(info: RelationInfo, point: Point, value: int | None = None) -> str:
    """`x = 3, y = 11`, or `x = 7` when the value is left for the model."""
    parts = [f"{name} = {v}" for name, v in zip(info.variables, point)]
    if value is not None:
        parts.append(f"{info.output_variable} = {value}")
    return ", ".join(parts)


def random_coefficients(rng: random.Random, info: RelationInfo) -> tuple[int, ...]:
    """Coefficients drawn uniformly from the relation's ranges."""
    return tuple(rng.randint(low, high) for low, high in info.coefficient_ranges)


@scenario("numeracy")
class NumeracyScenario(Scenario):
    """Predict a polynomial's value at a new point from points of it."""

    name: ClassVar[str] = "numeracy"
    description: ClassVar[str] = "Induce an unknown polynomial from its points and evaluate it"
    tags: ClassVar[tuple[str, ...]] = ("reasoning", "math")

    def __init__(
        self,
        relation_type: NumeracyRelationType = "linear",
        mode: NumeracyMode = "function",
        num_points: int = 8,
        num_train_instances: int = 20,
        num_test_instances: int = 100,
        seed: int = 42,
    ) -> None:
        """Check the arguments.

        Args:
            relation_type: family of the unknown function.
            mode: function (a function per instance), standard or example (one function for all).
            num_points: points shown per instance in function mode (enough to determine the function).
            num_train_instances: train instances (in-context examples in standard and example modes).
            num_test_instances: test instances.
            seed: seed of the generator.

        Raises:
            ValueError: for an unknown relation type or mode (naming the valid ones), too few points to
                determine the function, more points than the largest domain holds, or a negative count.
        """
        check_choice("relation_type", relation_type, RELATIONS)
        check_choice("mode", mode, MODES)
        self.info = RELATIONS[relation_type]
        check_range("num_points", num_points, len(self.info.monomials))
        check_range("num_train_instances", num_train_instances, 0)
        check_range("num_test_instances", num_test_instances, 0)
        needed = num_points + 1 if mode == "function" else num_train_instances + num_test_instances
        self.domain = domain(self.info, needed)
        self.relation_type = relation_type
        self.mode = mode
        self.num_points = num_points
        self.num_train_instances = num_train_instances
        self.num_test_instances = num_test_instances
        self.seed = seed

    def get_instances(self, output_path: str) -> list[Instance]:
        """Train then test instances; nothing is read from or written to `output_path`."""
        if self.mode == "function":
            counts = [(TRAIN_SPLIT, self.num_train_instances), (TEST_SPLIT, self.num_test_instances)]
            variant = (self.relation_type, self.num_points)
            return draw_splits(self.name, self.seed, counts, self._function_instance, *variant)
        return self._single_function_instances()

    def _function_instance(self, rng: random.Random, split: str) -> Instance:
        """A fresh function, `num_points` points that determine it, and one more point to evaluate."""
        coefficients = random_coefficients(rng, self.info)
        while True:
            *shown, query = rng.sample(self.domain, self.num_points + 1)
            if identifiable(self.info, shown):
                break
        lines = [format_point(self.info, p, evaluate(self.info, coefficients, p)) for p in shown]
        lines.append(format_point(self.info, query))
        return self._instance("\n".join(lines), evaluate(self.info, coefficients, query), split)

    def _single_function_instances(self) -> list[Instance]:
        """Standard and example modes: distinct points of one function, train points first."""
        if self.mode == "example":
            coefficients = self.info.example
        else:
            function_rng = split_rng(self.name, self.seed, "function", self.relation_type)
            coefficients = random_coefficients(function_rng, self.info)
        total = self.num_train_instances + self.num_test_instances
        rng = split_rng(self.name, self.seed, "points", self.relation_type, self.mode)
        points = rng.sample(self.domain, total)
        return [
            self._instance(
                format_point(self.info, point),
                evaluate(self.info, coefficients, point),
                TRAIN_SPLIT if index < self.num_train_instances else TEST_SPLIT,
            )
            for index, point in enumerate(points)
        ]

    @staticmethod
    def _instance(text: str, value: int, split: str) -> Instance:
        return Instance(input=text, references=(Reference(output=str(value), tags=(CORRECT_TAG,)),), split=split)
