"""Tokenizers built from files that ship in registry packages (tiktoken encodings, the local model's).

Built-ins (registered by `bench.load_builtins()`): openai/r50k_base, openai/p50k_base, openai/cl100k_base,
openai/o200k_base, huggingface/smollm2-135m.
"""

from bench.tokenizers._tokenizer import TOKENIZERS, Tokenizer, get_tokenizer, tokenizer

__all__ = ["TOKENIZERS", "Tokenizer", "get_tokenizer", "tokenizer"]
