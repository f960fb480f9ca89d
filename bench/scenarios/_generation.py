"""Helpers shared by the generated scenarios: seeded random streams, unique draws, argument checks.

Generated scenarios must give the same instances in every process and on every machine, so each split draws
from its own `random.Random` seeded with a string (`random.Random(str)` hashes the string with SHA-512,
unaffected by PYTHONHASHSEED). One stream per split means that asking for more test instances never changes
the train instances, and train inputs are excluded from the evaluation splits, so an in-context example
never gives away the answer of the instance it precedes.
"""

from __future__ import annotations

import random
from abc import abstractmethod
from collections.abc import Callable, Collection, Iterable

from bench._errors import ScenarioDataError
from bench._instance import TEST_SPLIT, TRAIN_SPLIT, VALID_SPLIT, Instance
from bench.scenarios._scenario import Scenario

MAX_ATTEMPTS_PER_INSTANCE = 1000
"""Draws allowed per wanted instance before a generator is declared unable to find enough unique ones."""


def split_rng(scenario: str, seed: int, split: str, *variant: object) -> random.Random:
    """The random stream of one split of one scenario, fixed by its name, seed, split and `variant` args."""
    key = "/".join(str(part) for part in (scenario, seed, split, *variant))
    return random.Random(key)


def draw_unique(
    make: Callable[[random.Random, str], Instance],
    rng: random.Random,
    split: str,
    count: int,
    taken: set[str],
) -> list[Instance]:
    """`count` instances from `make(rng, split)` whose inputs are not in `taken` (nor repeated); updates `taken`.

    Args:
        make: draws one instance of `split` from the stream.
        rng: the split's stream.
        split: the split the instances belong to.
        count: how many instances to return.
        taken: inputs already used (by earlier splits); the new inputs are added to it.

    Raises:
        ScenarioDataError: when the generator keeps repeating itself (the space of inputs is too small for
            `count`; for example a tiny vocabulary).
    """
    instances: list[Instance] = []
    attempts = 0
    while len(instances) < count:
        attempts += 1
        if attempts > MAX_ATTEMPTS_PER_INSTANCE * max(count, 1):
            raise ScenarioDataError(
                f"could draw only {len(instances)} of {count} distinct instances; "
                "the arguments leave too few possible inputs"
            )
        instance = make(rng, split)
        if instance.input not in taken:
            taken.add(instance.input)
            instances.append(instance)
    return instances


def draw_splits(
    scenario: str,
    seed: int,
    counts: Iterable[tuple[str, int]],
    make: Callable[[random.Random, str], Instance],
    *variant: object,
) -> list[Instance]:
    """Instances of every split in `counts` order, unique across splits, each split from its own stream."""
    taken: set[str] = set()
    instances: list[Instance] = []
    for split, count in counts:
        rng = split_rng(scenario, seed, split, *variant)
        instances.extend(draw_unique(make, rng, split, count, taken))
    return instances


def check_choice(what: str, value: object, choices: Collection[str]) -> None:
    """Raise ValueError naming `what`, the bad `value` and the valid `choices` if `value` is not one of them."""
    if value not in choices:
        raise ValueError(f"{what} {value!r} is not valid; choose one of: {', '.join(choices)}")


def check_range(what: str, value: int, low: int, high: int | None = None) -> None:
    """Raise ValueError naming `what`, the bad `value` and the rule unless low <= value (<= high)."""
    if value < low or (high is not None and value > high):
        rule = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise ValueError(f"{what} must be {rule}, got {value}")


def split_counts(train: int, valid: int, test: int) -> list[tuple[str, int]]:
    """Checked (split, count) pairs for `draw_splits`: every count must be at least 0."""
    counts = [(TRAIN_SPLIT, train), (VALID_SPLIT, valid), (TEST_SPLIT, test)]
    for split, count in counts:
        check_range(f"num_{split}_instances", count, 0)
    return counts


class GeneratedScenario(Scenario):
    """A scenario drawn from seeded streams with `draw_splits`: it holds the split counts, the seed and the
    variant args that pick the streams, so a subclass only checks its own arguments and draws one instance."""

    def __init__(self, counts: list[tuple[str, int]], seed: int, *variant: object) -> None:
        """Keep what `get_instances` draws with.

        Args:
            counts: (split, count) pairs in drawing order, e.g. from `split_counts`.
            seed: the seed of every split's stream.
            variant: the arguments that change what is drawn (mode, difficulty, ...); they are part of each
                stream's key, so two variants never share a stream.
        """
        self.counts = counts
        self.seed = seed
        self.variant = variant

    def get_instances(self, output_path: str) -> list[Instance]:
        """Every split's instances in `counts` order; nothing is read from or written to `output_path`."""
        return draw_splits(self.name, self.seed, self.counts, self._make, *self.variant)

    @abstractmethod
    def _make(self, rng: random.Random, split: str) -> Instance:
        """One instance of `split` drawn from the split's stream `rng`."""
