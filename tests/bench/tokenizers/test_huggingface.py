"""The local model's tokenizer (loads the plain copy of SmolLM2; converts it the first time, ~20 s)."""

from __future__ import annotations

import pytest

from bench.tokenizers import get_tokenizer

pytestmark = pytest.mark.slow


def test_known_ids_and_round_trip() -> None:
    tokenizer = get_tokenizer("huggingface/smollm2-135m")
    assert tokenizer.encode("hello world") == [28120, 905]  # no BOS added
    text = "Héllo,  wörld!\n\n東京 don't"
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_special_token_text_is_ordinary_text() -> None:
    tokenizer = get_tokenizer("huggingface/smollm2-135m")
    ids = tokenizer.encode("<|im_end|>")
    assert 2 not in ids  # 2 is <|im_end|>, the end-of-sequence token
    assert tokenizer.decode(ids) == "<|im_end|>"


def test_token_bytes_are_the_real_bytes_and_the_prefix_is_endoftext() -> None:
    tokenizer = get_tokenizer("huggingface/smollm2-135m")
    text = "It’s 🎉 東京 naïve"
    ids = tokenizer.encode(text)
    assert b"".join(tokenizer.token_bytes(i) for i in ids) == text.encode("utf-8")
    assert tokenizer.prefix_token == "<|endoftext|>"
    assert tokenizer.token_bytes(0) == b"<|endoftext|>"  # id 0 is the start-of-document token
