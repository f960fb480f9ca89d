"""identity, extra_space, space and lowercase."""

from __future__ import annotations

import random
import re

import pytest

from bench import Instance, PerturbationSpec
from bench.augmentation import create_perturbation


def perturb(name: str, text: str, **args: object) -> str:
    return create_perturbation(PerturbationSpec(name=name, args=args)).perturb(text, random.Random(0))


def test_identity_lowercase_and_extra_space() -> None:
    assert perturb("identity", "Keep It  As Is") == "Keep It  As Is"
    assert perturb("lowercase", "MiXeD Case ÄÖ") == "mixed case äö"
    assert perturb("extra_space", "a b  c") == "a   b      c"  # every space, default 3
    assert perturb("extra_space", "a b", num_spaces=2) == "a  b"


def test_space_turns_each_run_of_spaces_into_one_to_max_spaces() -> None:
    text = "a b  c   d" + " e" * 40
    out = create_perturbation(PerturbationSpec(name="space", args={"max_spaces": 3})).apply(
        Instance(input=text, id="id1")
    )
    assert out.input.split() == text.split()
    runs = [len(m) for m in re.findall(r" +", out.input)]
    assert len(runs) == 43 and set(runs) == {1, 2, 3}  # each run drawn on its own, merged runs stay one


def test_space_draws_one_randint_per_run() -> None:
    rng = random.Random("id9")
    expected = "x" + " " * rng.randint(1, 3) + "y" + " " * rng.randint(1, 3) + "z"
    space = create_perturbation(PerturbationSpec(name="space", args={"max_spaces": 3}))
    assert space.apply(Instance(input="x y    z", id="id9")).input == expected


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("extra_space", {"num_spaces": 0}, r"'extra_space': argument 'num_spaces' must be an integer >= 1, got 0"),
        ("extra_space", {"num_spaces": 2.0}, r"argument 'num_spaces'"),
        ("space", {"max_spaces": True}, r"'space': argument 'max_spaces' must be an integer >= 1, got True"),
    ],
)
def test_bad_counts_are_refused(name: str, args: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_perturbation(PerturbationSpec(name=name, args=args))
