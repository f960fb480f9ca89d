"""`synthetic_reasoning`: symbolic pattern tasks after LIME (HELM's synthetic_reasoning scenario).

A rule is a sequence of rule symbols (X, Y, Z) and math symbols (+ - * =), such as `X + Y = Y + X`;
substituting words for the rule symbols gives a result, such as `apple + peach kiwi = peach kiwi + apple`.
Three modes:
- pattern_match: given four rules and a result, name the rule that produced it.
- variable_substitution: given a rule and substitutions, write the result.
- induction: given two results of one rule, write the rule.

Differences from HELM, each to make the answer unique and so exact match fair:
- rule symbols are named in order of first appearance (X first, then Y, then Z); HELM's targets keep
  arbitrary names such as `Z + X = Z`, which no model can infer from the results;
- two rule symbols are never adjacent, and the words substituted for different symbols never share a
  word, so each result splits into its symbols' words in exactly one way;
- pattern_match distractors are checked not to match the result under any substitution.
"""

from __future__ import annotations

import itertools
import random
from typing import ClassVar, Literal

from bench._instance import CORRECT_TAG, Instance, Reference
from bench.scenarios._generation import GeneratedScenario, check_choice, split_counts
from bench.scenarios._scenario import scenario

SyntheticReasoningMode = Literal["pattern_match", "variable_substitution", "induction"]
MODES: tuple[str, ...] = ("pattern_match", "variable_substitution", "induction")

RULE_SYMBOLS = ("X", "Y", "Z")
MATH_SYMBOLS = ("+", "-", "*", "=")
WORDS = (
    "zebra", "cobra", "stork", "penguin", "shark", "lion", "buffalo", "whale", "seal", "eagle", "horse", "rat",
    "apple", "peach", "melon", "banana", "grape", "kiwi", "pear", "plum", "cherry", "lemon",
)  # fmt: skip
"""Words substituted for rule symbols (animals and fruits, as in HELM)."""

MAX_WORDS_PER_SYMBOL = 2
NUM_CHOICES = 4  # rules shown in pattern_match: the right one and three distractors
MAX_DISTRACTOR_ATTEMPTS = 200

Pattern = tuple[str, ...]


def canonical(pattern: Pattern) -> Pattern:
    """`pattern` with rule symbols renamed X, Y, Z in order of first appearance (`Z + X = Z` -> `X + Y = X`)."""
    names: dict[str, str] = {}
    for symbol in pattern:
        if symbol in RULE_SYMBOLS and symbol not in names:
            names[symbol] = RULE_SYMBOLS[len(names)]
    return tuple(names.get(symbol, symbol) for symbol in pattern)


def random_pattern(rng: random.Random, num_rule: int, math_symbols: list[str]) -> Pattern:
    """A canonical rule of `num_rule` rule symbols and `math_symbols` in which no two rule symbols touch."""
    rule = [rng.choice(RULE_SYMBOLS) for _ in range(num_rule)]
    while True:
        symbols = rule + math_symbols
        rng.shuffle(symbols)
        if not any(a in RULE_SYMBOLS and b in RULE_SYMBOLS for a, b in itertools.pairwise(symbols)):
            return canonical(tuple(symbols))


def random_substitution(rng: random.Random, pattern: Pattern) -> dict[str, tuple[str, ...]]:
    """One to two words per rule symbol of `pattern`, no word used for two symbols."""
    symbols = sorted({s for s in pattern if s in RULE_SYMBOLS})
    sizes = [rng.randint(1, MAX_WORDS_PER_SYMBOL) for _ in symbols]
    words = rng.sample(WORDS, sum(sizes))
    substitution: dict[str, tuple[str, ...]] = {}
    for symbol, size in zip(symbols, sizes):
        substitution[symbol], words = tuple(words[:size]), words[size:]
    return substitution


def substitute(pattern: Pattern, substitution: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The result: each rule symbol of `pattern` replaced by its words."""
    return tuple(word for symbol in pattern for word in substitution.get(symbol, (symbol,)))


def matches(pattern: Pattern, result: tuple[str, ...]) -> bool:
    """Whether some substitution (1 to MAX_WORDS_PER_SYMBOL words per symbol) turns `pattern` into `result`."""

    def search(i: int, j: int, bound: dict[str, tuple[str, ...]]) -> bool:
        if i == len(pattern):
            return j == len(result)
        symbol = pattern[i]
        if symbol not in RULE_SYMBOLS:
            return j < len(result) and result[j] == symbol and search(i + 1, j + 1, bound)
        if symbol in bound:
            words = bound[symbol]
            return result[j : j + len(words)] == words and search(i + 1, j + len(words), bound)
        for size in range(1, MAX_WORDS_PER_SYMBOL + 1):
            words = result[j : j + size]
            if len(words) == size and search(i + 1, j + size, {**bound, symbol: words}):
                return True
        return False

    return search(0, 0, {})


def _distractors(rng: random.Random, pattern: Pattern, result: tuple[str, ...]) -> list[Pattern] | None:
    """Three rules other than `pattern`, with the same math symbols, none of which matches `result`.

    Returns None when they are not found quickly: a rule like `X + X + X` is matched by almost every rule of
    its shape, and the caller then draws another problem.
    """
    math_symbols = [s for s in pattern if s not in RULE_SYMBOLS]
    found: list[Pattern] = []
    for _ in range(MAX_DISTRACTOR_ATTEMPTS):
        candidate = random_pattern(rng, rng.randint(2, 3), list(math_symbols))
        if candidate != pattern and candidate not in found and not matches(candidate, result):
            found.append(candidate)
            if len(found) == NUM_CHOICES - 1:
                return found
    return None


def _text(symbols: tuple[str, ...]) -> str:
    return " ".join(symbols)


def make_problem(rng: random.Random, mode: str) -> tuple[str, str]:
    """One (input, answer) pair of `mode`."""
    while True:
        problem = _try_problem(rng, mode)
        if problem is not None:
            return problem


def _try_problem(rng: random.Random, mode: str) -> tuple[str, str] | None:
    """One (input, answer) pair of `mode`, or None if no pattern_match distractors were found."""
    num_rule = rng.randint(2, 3)
    math_symbols = [rng.choice(MATH_SYMBOLS) for _ in range(rng.randint(2, 3))]
    pattern = random_pattern(rng, num_rule, math_symbols)
    substitution = random_substitution(rng, pattern)
    result = substitute(pattern, substitution)
    if mode == "variable_substitution":
        pairs = ", ".join(f'{s} by "{_text(words)}"' for s, words in substitution.items())
        return f"Rule: {_text(pattern)}\nSubstitutions: {pairs}", _text(result)
    if mode == "induction":
        second = substitute(pattern, random_substitution(rng, pattern))
        return f"Result 1: {_text(result)}\nResult 2: {_text(second)}", _text(pattern)
    distractors = _distractors(rng, pattern, result)
    if distractors is None:
        return None
    choices = [pattern, *distractors]
    rng.shuffle(choices)
    listed = "\n".join(f"Rule: {_text(choice)}" for choice in choices)
    return f"{listed}\nResult: {_text(result)}", _text(pattern)


@scenario("synthetic_reasoning")
class SyntheticReasoningScenario(GeneratedScenario):
    """Pattern matching, variable substitution and induction over symbolic rules."""

    name: ClassVar[str] = "synthetic_reasoning"
    description: ClassVar[str] = "Match, apply or induce symbolic rewriting rules"
    tags: ClassVar[tuple[str, ...]] = ("reasoning", "language", "pattern_matching")

    def __init__(
        self,
        mode: SyntheticReasoningMode = "pattern_match",
        num_train_instances: int = 100,
        num_valid_instances: int = 100,
        num_test_instances: int = 500,
        seed: int = 42,
    ) -> None:
        """Check the arguments.

        Raises:
            ValueError: for an unknown mode (naming the valid ones) or a negative count.
        """
        check_choice("mode", mode, MODES)
        super().__init__(split_counts(num_train_instances, num_valid_instances, num_test_instances), seed, mode)
        self.mode = mode

    def _make(self, rng: random.Random, split: str) -> Instance:
        text, answer = make_problem(rng, self.mode)
        return Instance(input=text, references=(Reference(output=answer, tags=(CORRECT_TAG,)),), split=split)
