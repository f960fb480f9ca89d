"""Sliding windows over a tokenized document, each scoring new tokens after some conditioning tokens.

Used by the language_modeling adapter (whose docstring gives the window and stride rules). Windows are cut
only where `is_boundary` allows, so that a byte-level BPE window never starts or ends inside a character
(its prompt would hold U+FFFD and re-encode to other tokens); `clean_cut` is that test for a tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.tokenizers._tokenizer import Tokenizer

CUT_CONTEXT = 4
"""Tokens looked at on each side of a cut: a character is at most 4 bytes, so at most 4 byte tokens."""


@dataclass(frozen=True)
class Window:
    """Tokens [start, end) of a document, of which [scored_from, end) are scored."""

    start: int
    scored_from: int
    end: int


def _anywhere(position: int) -> bool:
    return True


def sliding_windows(
    num_tokens: int, window: int, stride: int, is_boundary: Callable[[int], bool] = _anywhere
) -> list[Window]:
    """The windows that score each of `num_tokens` tokens exactly once.

    The first window scores tokens [0, min(window, num_tokens)); each next one scores at most `stride` new
    tokens, conditioned on as many tokens before them as fit in `window`. Every cut is moved to a position
    where `is_boundary` holds: a window's end back among its new tokens, its start forward among its
    conditioning tokens; where there is no such position, the cut stays where it was.

    Args:
        num_tokens: tokens in the document.
        window: most tokens per window (>= 1).
        stride: most new tokens a window after the first scores (1 <= stride <= window).
        is_boundary: whether the document may be cut before token `position` (0 and num_tokens always may).

    Returns:
        The windows in document order; none for an empty document.
    """
    if num_tokens == 0:
        return []

    def end_after(scored_from: int, most: int) -> int:
        limit = min(scored_from + most, num_tokens)
        return next((p for p in range(limit, scored_from, -1) if p == num_tokens or is_boundary(p)), limit)

    windows = [Window(start=0, scored_from=0, end=end_after(0, window))]
    while windows[-1].end < num_tokens:
        scored_from = windows[-1].end
        end = end_after(scored_from, stride)
        first = max(0, end - window)
        start = next((p for p in range(first, scored_from) if p == 0 or is_boundary(p)), first)
        windows.append(Window(start=start, scored_from=scored_from, end=end))
    return windows


def clean_cut(tokenizer: Tokenizer, ids: list[int], position: int) -> bool:
    """Whether cutting `ids` before `position` splits no character and re-encodes to the same tokens there.

    Both sides of the cut must decode to text that joins into the text of the whole, and re-encoding each
    side must give back the tokens next to the cut (a cut inside a word may re-tokenize: "believ|able").
    """
    left = ids[max(0, position - CUT_CONTEXT) : position]
    right = ids[position : position + CUT_CONTEXT]
    left_text, right_text = tokenizer.decode(left), tokenizer.decode(right)
    if left_text + right_text != tokenizer.decode(left + right):
        return False
    return tokenizer.encode(left_text)[-1:] == left[-1:] and tokenizer.encode(right_text)[:1] == right[:1]
