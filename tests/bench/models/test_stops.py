"""Cutting completions before their first stop sequence."""

from __future__ import annotations

from bench.models._stops import cut_at_stop, first_stop_index

PIECES = ["ab", "c\n", "de"]


def decode(ids: list[int]) -> str:
    return "".join(PIECES[i] for i in ids)


def test_no_stop_keeps_everything() -> None:
    assert cut_at_stop([0, 1, 2], decode, ["zz"]) == (3, "abc\nde", False)
    assert cut_at_stop([0, 1, 2], decode, []) == (3, "abc\nde", False)


def test_stop_cuts_text_and_drops_the_straddling_token() -> None:
    # "\n" starts at index 3; token 1 ("c\n") ends at 4 > 3, so only token 0 is kept, but "c" stays in the text.
    assert cut_at_stop([0, 1, 2], decode, ["\n"]) == (1, "abc", True)


def test_earliest_stop_wins_and_empty_stops_are_ignored() -> None:
    assert first_stop_index("abc\nde", ["de", "", "c"]) == 2
    assert first_stop_index("abc", [""]) is None
    assert cut_at_stop([0, 1, 2], decode, ["de", "b"]) == (0, "a", True)
