"""Token texts that hold part of a character, and how many bytes a token text stands for.

A byte-level BPE token may hold only some bytes of a UTF-8 character ("’" is b"\\xe2\\x80" + b"\\x99" in
GPT-2's vocabulary). OpenAI's API then names the token `bytes:\\xe2\\x80` (the backslashes are literal);
Mercury's own clients follow the same convention, so every token text says exactly which bytes it holds and
a language-modeling metric can count bytes as HELM does (`basic_metrics.get_num_bytes`): two for
`bytes:\\xe2\\x80`, not the 14 characters of its name nor the 3 bytes of a U+FFFD.
"""

from __future__ import annotations

import functools

BYTES_PREFIX = "bytes:"
"""How a token text that is not whole UTF-8 characters starts (OpenAI's convention)."""


def token_text(raw: bytes) -> str:
    """The text of a token from its raw bytes: the characters, or `bytes:\\xNN...` when they do not decode."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return BYTES_PREFIX + "".join(f"\\x{byte:02x}" for byte in raw)


def token_raw_bytes(text: str) -> bytes:
    """The bytes a token text stands for: parsed from a `bytes:\\xNN...` name, else the text's UTF-8."""
    if text.startswith(BYTES_PREFIX):
        return bytes(int(part[:2], 16) for part in text[len(BYTES_PREFIX) :].split("\\x")[1:])
    return text.encode("utf-8")


def count_token_bytes(text: str) -> int:
    """Bytes a token text stands for: the `\\x` escapes of a `bytes:` token, else its UTF-8 length (HELM's rule)."""
    if text.startswith(BYTES_PREFIX):
        return text.count("\\x")
    return len(text.encode("utf-8"))


@functools.cache
def byte_level_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet reversed: the printable character standing for each byte -> the byte.

    Byte-level BPE vocabularies (GPT-2's, SmolLM2's) spell every byte as one printable character: printable
    bytes stand for themselves, the others for 256 + k in order. Reversing the map recovers a token's bytes.
    """
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    extra = 0
    decoder: dict[str, int] = {}
    for byte in range(256):
        if byte in printable:
            decoder[chr(byte)] = byte
        else:
            decoder[chr(256 + extra)] = byte
            extra += 1
    return decoder
