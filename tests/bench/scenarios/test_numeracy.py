"""numeracy: references checked by fitting the function to the shown points with exact fractions."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from fractions import Fraction

import pytest

from bench import CORRECT_TAG, TEST_SPLIT, TRAIN_SPLIT, Instance
from bench.scenarios import NumeracyScenario

# Monomials of each relation type as functions of the point, in the order a, b, c.
FEATURES = {
    "linear": lambda x: (x[0], 1),
    "parabola": lambda x: (x[0] ** 2, x[0], 1),
    "plane": lambda x: (x[0], x[1], 1),
    "paraboloid": lambda x: (x[0] ** 2, x[1] ** 2, 1),
}


def determinant(rows: list[list[Fraction]]) -> Fraction:
    if len(rows) == 1:
        return rows[0][0]
    return sum(
        (-1) ** j * rows[0][j] * determinant([row[:j] + row[j + 1 :] for row in rows[1:]]) for j in range(len(rows))
    )  # type: ignore[return-value]


def fit(relation_type: str, points: list[tuple[tuple[int, ...], int]]) -> list[Fraction]:
    """Coefficients through the points, by Cramer's rule on the first subset with a non-zero determinant."""
    size = len(FEATURES[relation_type]((1, 1)))
    for subset in itertools.combinations(points, size):
        matrix = [[Fraction(f) for f in FEATURES[relation_type](p)] for p, _ in subset]
        d = determinant(matrix)
        if d:
            values = [Fraction(v) for _, v in subset]
            return [
                determinant([[*row[:j], v, *row[j + 1 :]] for row, v in zip(matrix, values)]) / d for j in range(size)
            ]
    raise AssertionError("the points do not determine the function")


def value(relation_type: str, coefficients: list[Fraction], point: tuple[int, ...]) -> Fraction:
    return sum((c * f for c, f in zip(coefficients, FEATURES[relation_type](point))), Fraction(0))


def split_point(line: str, has_value: bool) -> tuple[tuple[int, ...], int]:
    numbers = [int(v) for v in re.findall(r"-?\d+", line)]
    return (tuple(numbers[:-1]), numbers[-1]) if has_value else (tuple(numbers), 0)


@pytest.mark.parametrize("relation_type", ["linear", "parabola", "plane", "paraboloid"])
def test_function_mode_answer_follows_from_the_points(relation_type: str) -> None:
    instances = NumeracyScenario(relation_type, num_test_instances=30).get_instances("unused")  # type: ignore[arg-type]
    for instance in instances:
        *shown, query = instance.input.split("\n")
        assert len(shown) == 8
        points = [split_point(line, has_value=True) for line in shown]
        coefficients = fit(relation_type, points)
        # The fit reproduces every shown point, its coefficients are whole, and it gives the reference.
        assert all(value(relation_type, coefficients, p) == v for p, v in points)
        assert all(c.denominator == 1 and c >= 0 for c in coefficients)
        expected = value(relation_type, coefficients, split_point(query, has_value=False)[0])
        assert [(r.output, r.tags) for r in instance.references] == [(str(expected), (CORRECT_TAG,))]


def test_function_mode_format() -> None:
    instance = NumeracyScenario("plane").get_instances("unused")[0]
    *shown, query = instance.input.split("\n")
    assert re.fullmatch(r"x = -?\d+, y = -?\d+, z = -?\d+", shown[0])
    assert re.fullmatch(r"x = -?\d+, y = -?\d+", query)


def test_standard_mode_is_one_function_over_distinct_points() -> None:
    instances = NumeracyScenario("parabola", "standard").get_instances("unused")
    assert [i.split for i in instances] == [TRAIN_SPLIT] * 20 + [TEST_SPLIT] * 100
    points = [(split_point(i.input, has_value=False)[0], int(i.references[0].output)) for i in instances]
    assert len({p for p, _ in points}) == 120
    assert all(p[0] >= 0 for p, _ in points)  # parabolas live on x >= 0
    coefficients = fit("parabola", points[:20])
    assert all(value("parabola", coefficients, p) == v for p, v in points)


def test_example_mode_uses_the_fixed_function() -> None:
    # linear example: y = 3x + 2; plane example: z = 2x + 3y + 1.
    for instance in NumeracyScenario("linear", "example").get_instances("unused"):
        (x,), _ = split_point(instance.input, has_value=False)
        assert instance.references[0].output == str(3 * x + 2)
    for instance in NumeracyScenario("plane", "example").get_instances("unused"):
        (x, y), _ = split_point(instance.input, has_value=False)
        assert instance.references[0].output == str(2 * x + 3 * y + 1)


def test_counts_and_determinism() -> None:
    instances = NumeracyScenario().get_instances("unused")
    assert Counter(i.split for i in instances) == {TRAIN_SPLIT: 20, TEST_SPLIT: 100}
    assert instances == NumeracyScenario().get_instances("other")
    assert len({i.input for i in instances}) == 120


def test_function_mode_numbers_stay_small() -> None:
    # Nine points per linear instance fit in x in [-5, 5]: |y| <= 5 * 5 + 5 = 30.
    instances: list[Instance] = NumeracyScenario("linear").get_instances("unused")
    numbers = [abs(int(n)) for i in instances for n in re.findall(r"-?\d+", i.input)]
    assert max(numbers) <= 30


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="relation_type 'cubic' is not valid; choose one of: linear, parabola"):
        NumeracyScenario("cubic")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mode 'fancy' is not valid; choose one of: function, standard, example"):
        NumeracyScenario(mode="fancy")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_points must be at least 3, got 2"):
        NumeracyScenario("parabola", num_points=2)
    with pytest.raises(ValueError, match="1000 distinct points were asked for; the largest domain has 401"):
        NumeracyScenario("linear", "standard", num_train_instances=500, num_test_instances=500)
