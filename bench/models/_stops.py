"""Cutting a completion before its first stop sequence, the same way in every in-process client."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def first_stop_index(text: str, stop_sequences: Sequence[str]) -> int | None:
    """Where the earliest stop sequence starts in `text`, or None if none occurs (empty stops ignored)."""
    found = [i for i in (text.find(s) for s in stop_sequences if s) if i >= 0]
    return min(found) if found else None


def cut_at_stop(
    ids: Sequence[int], decode: Callable[[list[int]], str], stop_sequences: Sequence[str]
) -> tuple[int, str, bool]:
    """Truncate a completion before its first stop sequence.

    Args:
        ids: the completion's token ids.
        decode: turns ids into text.
        stop_sequences: strings that end the completion (the stop itself is not kept).

    Returns:
        (number of tokens kept, text, whether a stop sequence was found). The text is cut exactly before
        the stop; the tokens kept are the longest prefix whose text lies wholly before it, so a token that
        straddles the stop is dropped and its part before the stop appears only in the text.
    """
    text = decode(list(ids))
    stop = first_stop_index(text, stop_sequences)
    if stop is None:
        return len(ids), text, False
    kept = 0
    while kept < len(ids) and len(decode(list(ids[: kept + 1]))) <= stop:
        kept += 1
    return kept, text[:stop], True
