"""Tokenizers built from files that ship in registry packages (tiktoken encodings, the local model's).

Built-ins (registered by `bench.load_builtins()`): openai/r50k_base, openai/p50k_base, openai/cl100k_base,
openai/o200k_base, huggingface/smollm2-135m.
"""

from bench.tokenizers._token_bytes import BYTES_PREFIX, count_token_bytes, token_raw_bytes, token_text
from bench.tokenizers._tokenizer import TOKENIZERS, Tokenizer, get_tokenizer, tokenizer

__all__ = [
    "BYTES_PREFIX",
    "TOKENIZERS",
    "Tokenizer",
    "count_token_bytes",
    "get_tokenizer",
    "token_raw_bytes",
    "token_text",
    "tokenizer",
]
