"""Builders shared by the adapter tests."""

from __future__ import annotations

from typing import Any

from bench import CORRECT_TAG, Instance, Reference
from bench.adaptation import Adapter, AdapterSpec, create_adapter
from bench.tokenizers import Tokenizer
from tests.fakes import WordTokenizer


def instance(text: str, *outputs: str, correct: int | None = 0, split: str = "test", **kwargs: Any) -> Instance:
    """An instance whose reference `correct` (an index into `outputs`) is tagged correct."""
    references = tuple(
        Reference(output=output, tags=(CORRECT_TAG,) if i == correct else ()) for i, output in enumerate(outputs)
    )
    return Instance(input=text, references=references, split=split, **kwargs)


def make_adapter(context_window: int = 1000, **spec: Any) -> Adapter:
    """The registered adapter for `AdapterSpec(**spec)` with the word tokenizer."""
    return create_adapter(AdapterSpec(**spec), WordTokenizer(), context_window)


class ByteTokenizer(Tokenizer):
    """UTF-8 bytes as ids: decode of part of a character gives U+FFFD, so round trips are not exact."""

    name = "test/bytes"

    def encode(self, text: str) -> list[int]:
        return list(text.encode())

    def decode(self, ids: list[int]) -> str:
        return bytes(ids).decode(errors="replace")
