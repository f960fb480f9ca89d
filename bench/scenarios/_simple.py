"""`simple1`: a tiny generated task for checking the whole pipeline (after HELM's Simple1Scenario).

HELM's Simple1 asks for a random one of the input tokens, which no model can get right on purpose. Here the
answer is the letter that occurs most often, which is checkable and still trivial to generate:

    Input:  k c f c a
    Answer: c
"""

from __future__ import annotations

import random
import string
from typing import ClassVar

from bench._instance import CORRECT_TAG, TEST_SPLIT, TRAIN_SPLIT, Instance, Reference
from bench.scenarios._generation import GeneratedScenario, check_range
from bench.scenarios._scenario import scenario

ALPHABET = string.ascii_lowercase


@scenario("simple1")
class Simple1Scenario(GeneratedScenario):
    """Sequences of letters; the answer is the letter that occurs most often (exactly one does)."""

    name: ClassVar[str] = "simple1"
    description: ClassVar[str] = "Name the most frequent letter of a short random sequence"
    tags: ClassVar[tuple[str, ...]] = ("simple",)

    def __init__(
        self,
        num_input_tokens: int = 5,
        vocab_size: int = 20,
        num_train_instances: int = 10,
        num_test_instances: int = 100,
        seed: int = 42,
    ) -> None:
        """Check the arguments (a sequence needs room for one letter twice and the others once).

        Raises:
            ValueError: naming the bad argument and its allowed range.
        """
        check_range("vocab_size", vocab_size, 2, len(ALPHABET))
        # The answer letter appears twice and every other letter once, so the others need distinct letters.
        check_range("num_input_tokens", num_input_tokens, 2, vocab_size + 1)
        check_range("num_train_instances", num_train_instances, 0)
        check_range("num_test_instances", num_test_instances, 0)
        counts = [(TRAIN_SPLIT, num_train_instances), (TEST_SPLIT, num_test_instances)]
        super().__init__(counts, seed, num_input_tokens, vocab_size)
        self.num_input_tokens = num_input_tokens
        self.vocab_size = vocab_size

    def _make(self, rng: random.Random, split: str) -> Instance:
        """One sequence: the answer letter twice, distinct other letters once each, shuffled."""
        letters = list(ALPHABET[: self.vocab_size])
        answer, *others = rng.sample(letters, self.num_input_tokens - 1)
        tokens = [answer, answer, *others]
        rng.shuffle(tokens)
        return Instance(
            input=" ".join(tokens),
            references=(Reference(output=answer, tags=(CORRECT_TAG,)),),
            split=split,
        )
