"""simple1: the answer is the one most frequent letter."""

from __future__ import annotations

from collections import Counter

import pytest

from bench import CORRECT_TAG, TEST_SPLIT, TRAIN_SPLIT
from bench.scenarios import Simple1Scenario


def test_counts_per_split_and_ids_left_to_the_runner() -> None:
    instances = Simple1Scenario().get_instances("unused")
    assert [i.split for i in instances] == [TRAIN_SPLIT] * 10 + [TEST_SPLIT] * 100
    assert all(i.id is None for i in instances)


def test_reference_is_the_unique_most_frequent_letter() -> None:
    for instance in Simple1Scenario(num_input_tokens=6, vocab_size=8).get_instances("unused"):
        tokens = instance.input.split(" ")
        assert len(tokens) == 6
        assert set(tokens) <= set("abcdefgh")
        (top, top_count), (_, second_count) = Counter(tokens).most_common(2)
        assert top_count > second_count
        assert [(r.output, r.tags) for r in instance.references] == [(top, (CORRECT_TAG,))]


def test_deterministic() -> None:
    assert Simple1Scenario().get_instances("a") == Simple1Scenario().get_instances("b")
    assert Simple1Scenario(seed=1).get_instances("a") != Simple1Scenario().get_instances("a")


def test_more_test_instances_keep_the_train_split() -> None:
    small = Simple1Scenario(num_test_instances=5).get_instances("unused")
    large = Simple1Scenario(num_test_instances=50).get_instances("unused")
    assert small[:15] == large[:15]  # 10 train, then the first 5 test instances


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="vocab_size must be between 2 and 26, got 30"):
        Simple1Scenario(vocab_size=30)
    # 3 letters: the answer twice and two others once each needs num_input_tokens <= 4.
    with pytest.raises(ValueError, match="num_input_tokens must be between 2 and 4, got 5"):
        Simple1Scenario(vocab_size=3)
    with pytest.raises(ValueError, match="num_test_instances must be at least 0, got -1"):
        Simple1Scenario(num_test_instances=-1)
