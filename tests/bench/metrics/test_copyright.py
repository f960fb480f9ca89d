"""copyright metrics: longest common prefix, edit distance and similarity on tokens, checked by hand."""

from __future__ import annotations

import itertools
import random

import pytest

from bench import CORRECT_TAG, Instance, Reference, Request
from bench.adaptation import RequestState
from bench.metrics import create_metric
from bench.metrics._copyright import (
    edit_distance,
    edit_similarity,
    longest_common_prefix_length,
    normalize_whitespace,
)
from tests.bench.metrics.builders import FAILED, MODEL, completion, context, success


def _reference_distance(a: list[int], b: list[int]) -> int:
    """Textbook Levenshtein distance, cell by cell, to check the vectorized one."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        previous, row = row, [i] + [0] * len(b)
        for j, y in enumerate(b, start=1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (x != y))
    return row[-1]


@pytest.mark.parametrize(
    ("a", "b", "prefix", "distance"),
    [
        ([1, 2, 3], [1, 2, 3], 3, 0),
        ([1, 2, 3, 4], [1, 2, 9], 2, 2),  # replace 3 by 9, delete 4
        ([5, 1, 2], [1, 2], 0, 1),  # delete the leading 5: no common prefix, distance 1
        ([], [1, 2], 0, 2),
        ([7], [], 0, 1),
        ([1, 2, 3], [3, 2, 1], 0, 2),  # replace first and last
    ],
)
def test_prefix_and_distance_by_hand(a: list[int], b: list[int], prefix: int, distance: int) -> None:
    assert longest_common_prefix_length(a, b) == prefix
    assert edit_distance(a, b) == distance
    assert edit_distance(b, a) == distance


def test_edit_distance_matches_the_textbook_programme() -> None:
    rng = random.Random(3)
    for _ in range(200):
        a = [rng.randrange(4) for _ in range(rng.randrange(9))]
        b = [rng.randrange(4) for _ in range(rng.randrange(9))]
        assert edit_distance(a, b) == _reference_distance(a, b)


def test_edit_similarity() -> None:
    assert edit_similarity([1, 2, 3, 4], [1, 2, 9]) == pytest.approx(1 - 2 / 4)
    assert edit_similarity([1, 2], [1, 2]) == 1.0
    assert edit_similarity([], [1]) == 0.0


def test_normalize_whitespace() -> None:
    assert normalize_whitespace("a\n\tb   c") == "a b c"


def _state(prefix: str, rest: str, *texts: str) -> RequestState:
    instance = Instance(input=prefix, references=(Reference(output=rest, tags=(CORRECT_TAG,)),), id="id0")
    result = success(*(completion(t) for t in texts))
    return RequestState(instance=instance, request=Request(model=MODEL, prompt=prefix), result=result)


def _stats(state: RequestState, **args: bool) -> dict[str, float]:
    stats = create_metric("copyright", args).evaluate_instance([state], context())
    return {s.name.name: s.sum for s in stats}


def test_scores_word_tokens_against_the_continuation_cut_to_the_completion() -> None:
    state = _state("It was April, and", " the clocks were striking thirteen.", " the clocks were ringing")
    # completion, stripped: "the clocks were ringing" (23 characters) -> [the, clocks, were, ringing]
    # reference without its leading space, cut to 23 characters: "the clocks were strikin" -> [..., strikin]
    # prefix 3 tokens; distance 1 (replace the last); similarity 1 - 1/4
    stats = _stats(state)
    assert stats == {"longest_common_prefix_length": 3, "edit_distance": 1, "edit_similarity": 0.75}


def test_best_completion_counts_and_prefix_normalization() -> None:
    state = _state("Call me", "Ishmael. Some years ago", "Ishmael. Some years", "Nobody. Other")
    # best: "Ishmael. Some years" vs "Ishmael. Some years" -> 3 tokens equal
    stats = _stats(state)
    assert stats == {"longest_common_prefix_length": 3, "edit_distance": 0, "edit_similarity": 1.0}
    normalized = _stats(state, normalize_by_prefix_length=True)  # prompt "Call me" has 2 word tokens
    assert normalized == {"longest_common_prefix_length": 1.5, "edit_distance": 0.0, "edit_similarity": 1.0}


def test_newline_normalization_makes_layout_irrelevant() -> None:
    state = _state("Roses", "are red,\nviolets are blue", "are red, violets")
    assert _stats(state)["edit_distance"] == 1  # "\nviolets" vs " violets"
    assert _stats(state, normalize_newline_space_tab=True)["edit_distance"] == 0


def test_failed_request_gives_no_stats() -> None:
    state = _state("a", "b", "c").model_copy(update={"result": FAILED})
    assert _stats(state) == {}


def test_all_pairs_symmetry() -> None:
    for a, b in itertools.product([[1], [1, 2], [2, 1, 1]], repeat=2):
        assert edit_distance(a, b) == edit_distance(b, a)
