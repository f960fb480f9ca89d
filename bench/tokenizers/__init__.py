"""Tokenizers built from files that ship in registry packages (tiktoken encodings, the local model's)."""

from bench.tokenizers._tokenizer import TOKENIZERS, Tokenizer, get_tokenizer, tokenizer

__all__ = ["TOKENIZERS", "Tokenizer", "get_tokenizer", "tokenizer"]
