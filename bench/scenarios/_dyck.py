"""`dyck_language`: close the open brackets of a Dyck-n prefix (after HELM's dyck_language scenario).

    Input:  ( [ { } ] < >
    Output: )

The input is a prefix of a well-nested word over `num_parenthesis_pairs` bracket kinds that still needs 1 to
`max_output_size` closing brackets; the answer is exactly those, innermost first, separated by spaces.

HELM samples whole words from a probabilistic grammar and cuts them; here the prefix is drawn directly as a
random walk over the stack depth that is forced to end at the wanted depth, which gives the same kind of
input without rejection sampling. As in HELM, test inputs are longer than train inputs (does the model
generalize to longer sequences?) and never repeat a train input.
"""

from __future__ import annotations

import random
from typing import ClassVar

from bench._instance import CORRECT_TAG, TEST_SPLIT, TRAIN_SPLIT, Instance, Reference
from bench.scenarios._generation import GeneratedScenario, check_range
from bench.scenarios._scenario import scenario

BRACKETS = (("(", ")"), ("[", "]"), ("{", "}"), ("<", ">"))


def random_prefix(rng: random.Random, length: int, depth: int, pairs: int) -> list[str]:
    """A random prefix of `length` symbols over the first `pairs` bracket kinds with `depth` left open.

    At each step the walk opens or closes a bracket with equal odds, except where only one move can still
    reach the wanted depth in the steps left.

    Raises:
        ValueError: if `length - depth` is negative or odd (no such prefix exists).
    """
    if length < depth or (length - depth) % 2:
        raise ValueError(f"no prefix of length {length} leaves {depth} brackets open")
    symbols: list[str] = []
    stack: list[int] = []
    for step in range(length):
        remaining = length - step
        can_close = bool(stack) and len(stack) - 1 >= depth - (remaining - 1)
        can_open = len(stack) + 1 <= depth + (remaining - 1)
        if can_open and (not can_close or rng.random() < 0.5):
            kind = rng.randrange(pairs)
            stack.append(kind)
            symbols.append(BRACKETS[kind][0])
        else:
            symbols.append(BRACKETS[stack.pop()][1])
    return symbols


def closing(prefix: list[str]) -> list[str]:
    """The closing brackets that complete `prefix`, innermost first."""
    openers = {open_: close for open_, close in BRACKETS}
    stack: list[str] = []
    for symbol in prefix:
        if symbol in openers:
            stack.append(openers[symbol])
        else:
            stack.pop()
    return stack[::-1]


@scenario("dyck_language")
class DyckLanguageScenario(GeneratedScenario):
    """Complete a Dyck-n prefix with its missing closing brackets."""

    name: ClassVar[str] = "dyck_language"
    description: ClassVar[str] = "Generate the closing brackets of a Dyck-n prefix"
    tags: ClassVar[tuple[str, ...]] = ("reasoning", "language", "hierarchy")

    def __init__(
        self,
        num_parenthesis_pairs: int = 3,
        num_train_instances: int = 20,
        num_test_instances: int = 500,
        min_train_length: int = 6,
        max_train_length: int = 20,
        min_test_length: int = 20,
        max_test_length: int = 40,
        max_output_size: int = 3,
        seed: int = 42,
    ) -> None:
        """Check the arguments.

        Raises:
            ValueError: naming the bad argument and its allowed range (e.g. num_parenthesis_pairs 1 to 4).
        """
        check_range("num_parenthesis_pairs", num_parenthesis_pairs, 1, len(BRACKETS))
        check_range("max_output_size", max_output_size, 1)
        # A prefix needing d closing brackets has at least d symbols, so a word has at least 2 * d.
        check_range("min_train_length", min_train_length, 2 * max_output_size)
        check_range("max_train_length", max_train_length, min_train_length)
        check_range("min_test_length", min_test_length, 2 * max_output_size)
        check_range("max_test_length", max_test_length, min_test_length)
        check_range("num_train_instances", num_train_instances, 0)
        check_range("num_test_instances", num_test_instances, 0)
        counts = [(TRAIN_SPLIT, num_train_instances), (TEST_SPLIT, num_test_instances)]
        super().__init__(counts, seed, num_parenthesis_pairs)
        self.num_parenthesis_pairs = num_parenthesis_pairs
        self.lengths = {
            TRAIN_SPLIT: (min_train_length, max_train_length),
            TEST_SPLIT: (min_test_length, max_test_length),
        }
        self.max_output_size = max_output_size

    def _make(self, rng: random.Random, split: str) -> Instance:
        """A prefix whose word (prefix plus completion) has a length in the split's range (or one less:
        words have even length)."""
        low, high = self.lengths[split]
        depth = rng.randint(1, self.max_output_size)
        length = rng.randint(low, high) - depth
        if (length - depth) % 2:  # a prefix at depth d has the parity of d
            length -= 1
        prefix = random_prefix(rng, length, depth, self.num_parenthesis_pairs)
        return Instance(
            input=" ".join(prefix),
            references=(Reference(output=" ".join(closing(prefix)), tags=(CORRECT_TAG,)),),
            split=split,
        )
