"""The `Tokenizer` interface and its registry.

Tokenizers count tokens for the dry run and fit prompts into context windows. Every tokenizer is built
from files that ship inside registry packages (dependencies in pyproject.toml): nothing is ever downloaded.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable

from bench._registry import Registry

TokenizerFactory = Callable[[], "Tokenizer"]

TOKENIZERS: Registry[TokenizerFactory] = Registry("tokenizer")


def tokenizer(name: str) -> Callable[[TokenizerFactory], TokenizerFactory]:
    """Register a zero-argument factory that builds the tokenizer called `name`."""
    return TOKENIZERS.register(name)


class Tokenizer(ABC):
    """Turns text into token ids and back."""

    name: str
    prefix_token: str = ""
    """Text of the start-of-text token a document is conditioned on in language modeling (HELM's tokenizer
    `prefix_token`, "<|endoftext|>" for GPT-style tokenizers); "" when the tokenizer has none. Clients read
    it at the very start of an echoed prompt as that one special token, never as ordinary text."""

    @abstractmethod
    def encode(self, text: str) -> list[int]:
        """Token ids of `text` (no special tokens added)."""

    @abstractmethod
    def decode(self, ids: list[int]) -> str:
        """Text of the token ids."""

    @property
    def vocab_size(self) -> int | None:
        """Token ids are below this (None: unknown); the proxy checks ids against it before decoding."""
        return None

    def tokenize(self, text: str) -> list[str]:
        """The text of each token of `text` (may split multi-byte characters into partial strings)."""
        return [self.decode([i]) for i in self.encode(text)]

    def token_bytes(self, token_id: int) -> bytes:
        """The raw bytes of one token (part of a multi-byte character for some tokens of byte-level BPEs).

        This default re-encodes the decoded text, which is right only for tokens that hold whole characters;
        byte-level tokenizers override it.
        """
        return self.decode([token_id]).encode("utf-8")

    def count_tokens(self, text: str) -> int:
        """Number of tokens in `text`."""
        return len(self.encode(text))

    def fits(self, text: str, max_tokens: int) -> bool:
        """Whether `text` has at most `max_tokens` tokens."""
        return self.count_tokens(text) <= max_tokens

    def truncate_from_right(self, text: str, max_tokens: int) -> str:
        """The longest prefix of `text` with at most `max_tokens` tokens."""
        ids = self.encode(text)
        if len(ids) <= max_tokens:
            return text
        return self.decode(ids[:max_tokens])


@functools.cache
def get_tokenizer(name: str) -> Tokenizer:
    """The tokenizer registered as `name`, built once per process.

    Raises:
        LookupError: for an unknown name (with the nearest known names).
    """
    return TOKENIZERS.get(name)()
