"""Sliding windows: every token scored exactly once, each window within its size."""

from __future__ import annotations

from bench.adaptation import Window, sliding_windows


def test_windows_for_ten_tokens_window_four_stride_two() -> None:
    # first scores 0-3; then each scores 2 new tokens after the 2 before them
    assert sliding_windows(10, 4, 2) == [Window(0, 0, 4), Window(2, 4, 6), Window(4, 6, 8), Window(6, 8, 10)]


def test_a_short_document_is_one_window_and_an_empty_one_none() -> None:
    assert sliding_windows(3, 4, 2) == [Window(0, 0, 3)]
    assert sliding_windows(0, 4, 2) == []


def test_the_last_window_still_conditions_on_as_many_tokens_as_fit() -> None:
    # 5 tokens, window 4, stride 2: the second window scores token 4 only, conditioned on tokens 1-3
    assert sliding_windows(5, 4, 2) == [Window(0, 0, 4), Window(1, 4, 5)]


def test_every_token_is_scored_exactly_once_for_many_sizes() -> None:
    for num_tokens in range(0, 30):
        for window in range(1, 8):
            for stride in range(1, window + 1):
                windows = sliding_windows(num_tokens, window, stride)
                scored = [t for w in windows for t in range(w.scored_from, w.end)]
                assert scored == list(range(num_tokens))
                assert all(0 <= w.start <= w.scored_from < w.end and w.end - w.start <= window for w in windows)


def test_cuts_move_to_allowed_positions() -> None:
    # cuts allowed only at even positions: the first window ends at 4 (not 5), the next starts at 2 (not 1)
    windows = sliding_windows(8, 5, 3, lambda p: p % 2 == 0)
    assert windows == [Window(0, 0, 4), Window(2, 4, 6), Window(4, 6, 8)]


def test_no_allowed_position_in_reach_cuts_where_it_is() -> None:
    assert sliding_windows(7, 3, 2, lambda p: False) == [Window(0, 0, 3), Window(2, 3, 5), Window(4, 5, 7)]
