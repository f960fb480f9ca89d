"""dyck_language: the reference closes the prefix, found again with an independent stack."""

from __future__ import annotations

import pytest

from bench import CORRECT_TAG, TEST_SPLIT, TRAIN_SPLIT
from bench.scenarios import DyckLanguageScenario
from bench.scenarios._dyck import closing, random_prefix

PAIRS = {")": "(", "]": "[", "}": "{", ">": "<"}


def balanced(symbols: list[str]) -> bool:
    stack: list[str] = []
    for s in symbols:
        if s in PAIRS:
            if not stack or stack.pop() != PAIRS[s]:
                return False
        else:
            stack.append(s)
    return not stack


def symbols(text: str) -> list[str]:
    return text.split()


def test_closing_by_hand() -> None:
    assert closing(symbols("( [ { } ] <")) == [">", ")"]
    assert closing(symbols("( ( [")) == ["]", ")", ")"]


def test_random_prefix_ends_at_the_wanted_depth() -> None:
    import random

    rng = random.Random(0)
    for length, depth in [(1, 1), (5, 3), (12, 2), (29, 1)]:
        prefix = random_prefix(rng, length, depth, 2)
        assert len(prefix) == length
        assert len(closing(prefix)) == depth
        assert set(prefix) <= set("()[]")
    with pytest.raises(ValueError, match="no prefix of length 30 leaves 1 brackets open"):
        random_prefix(rng, 30, 1, 2)  # parity: a prefix at depth 1 has odd length


@pytest.mark.parametrize("pairs", [1, 3, 4])
def test_reference_completes_the_prefix(pairs: int) -> None:
    allowed = set("()[]{}<>"[: 2 * pairs])
    for instance in DyckLanguageScenario(pairs).get_instances("unused"):
        prefix = instance.input.split(" ")
        (reference,) = instance.references
        assert reference.tags == (CORRECT_TAG,)
        completion = reference.output.split(" ")
        assert set(prefix) <= allowed
        assert 1 <= len(completion) <= 3
        assert all(s in PAIRS for s in completion)
        assert balanced(prefix + completion)
        # Nothing shorter closes it: every prefix of the completion leaves brackets open.
        assert not any(balanced(prefix + completion[:k]) for k in range(len(completion)))


def test_counts_lengths_and_no_train_input_in_test() -> None:
    instances = DyckLanguageScenario().get_instances("unused")
    assert [i.split for i in instances] == [TRAIN_SPLIT] * 20 + [TEST_SPLIT] * 500
    train = [i for i in instances if i.split == TRAIN_SPLIT]
    test = [i for i in instances if i.split == TEST_SPLIT]
    assert {i.input for i in train}.isdisjoint(i.input for i in test)
    # Word length (prefix + completion) lies in the split's range, or one below it (words have even length).
    word = [len(i.input.split()) + len(i.references[0].output.split()) for i in instances]
    assert all(5 <= n <= 20 for n in word[:20]) and all(19 <= n <= 40 for n in word[20:])
    assert all(n % 2 == 0 for n in word)


def test_deterministic() -> None:
    assert DyckLanguageScenario().get_instances("a") == DyckLanguageScenario().get_instances("b")
    assert DyckLanguageScenario(2).get_instances("a") != DyckLanguageScenario(3).get_instances("a")


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="num_parenthesis_pairs must be between 1 and 4, got 5"):
        DyckLanguageScenario(5)
    with pytest.raises(ValueError, match="num_parenthesis_pairs must be between 1 and 4, got 0"):
        DyckLanguageScenario(0)
    with pytest.raises(ValueError, match="min_train_length must be at least 6, got 4"):
        DyckLanguageScenario(min_train_length=4)
    with pytest.raises(ValueError, match="max_test_length must be at least 20, got 10"):
        DyckLanguageScenario(max_test_length=10)
