"""Small fakes shared by tests: a lossless word tokenizer that needs no files."""

from __future__ import annotations

import re

from bench.tokenizers import Tokenizer

_PIECE = re.compile(r"\s*\S+|\s+")


class WordTokenizer(Tokenizer):
    """Splits text into words with their leading whitespace; decode(encode(t)) == t.

    Ids come from a vocabulary that grows as new pieces are seen (shared by all instances in a process).
    """

    name = "test/words"
    _vocab: dict[str, int] = {}  # noqa: RUF012  (deliberately shared)
    _pieces: list[str] = []  # noqa: RUF012

    def encode(self, text: str) -> list[int]:
        ids = []
        for piece in _PIECE.findall(text):
            if piece not in self._vocab:
                self._vocab[piece] = len(self._pieces)
                self._pieces.append(piece)
            ids.append(self._vocab[piece])
        return ids

    def decode(self, ids: list[int]) -> str:
        return "".join(self._pieces[i] for i in ids)
