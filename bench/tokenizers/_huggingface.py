"""The local model's own tokenizer (transformers), read from the model's plain cached copy.

The plain copy is made once from the GGUF file (see bench/models/_smollm2.py); the tokenizer and the
`local` client share it, so after the first conversion this tokenizer loads in well under a second.
"""

from __future__ import annotations

from typing import Any

from bench.tokenizers._token_bytes import byte_level_decoder
from bench.tokenizers._tokenizer import Tokenizer, tokenizer

SMOLLM2_PREFIX_TOKEN = "<|endoftext|>"
"""SmolLM2's start-of-document token (id 0): its pretraining documents are separated by it."""


class HuggingFaceTokenizer(Tokenizer):
    """A `Tokenizer` over a transformers tokenizer.

    `encode` adds no special tokens (no BOS) and reads special-token text such as "<|im_end|>" as ordinary
    text, as the tiktoken tokenizers do: a prompt that quotes a control token cannot end a conversation.
    """

    def __init__(self, name: str, hf_tokenizer: Any, prefix_token: str = "") -> None:
        """Args:
        prefix_token: the special token a document is conditioned on in language modeling ("" for none).
        """
        self.name = name
        self.hf_tokenizer = hf_tokenizer
        self.prefix_token = prefix_token

    def encode(self, text: str) -> list[int]:
        ids: list[int] = self.hf_tokenizer.encode(text, add_special_tokens=False, split_special_tokens=True)
        return ids

    def decode(self, ids: list[int]) -> str:
        # No clean-up of spaces around punctuation: decode(encode(text)) must give back the text.
        text: str = self.hf_tokenizer.decode(ids, clean_up_tokenization_spaces=False)
        return text

    @property
    def vocab_size(self) -> int | None:
        return len(self.hf_tokenizer)  # the added (special) tokens included

    def token_bytes(self, token_id: int) -> bytes:
        """The token's bytes, read from its byte-level BPE spelling (special tokens are their text)."""
        piece: str = self.hf_tokenizer.convert_ids_to_tokens(token_id)
        if piece in self.hf_tokenizer.all_special_tokens:
            return piece.encode("utf-8")
        decoder = byte_level_decoder()
        return bytes(decoder[c] for c in piece)


@tokenizer("huggingface/smollm2-135m")
def smollm2_135m() -> Tokenizer:
    """SmolLM2-135M-Instruct's tokenizer (byte-level BPE, 49152 tokens).

    Raises:
        ModelUnavailableError: if the local model's packages are missing (see `make install`).
    """
    from bench.models._smollm2 import offline_transformers, plain_copy_dir

    folder = plain_copy_dir()
    transformers = offline_transformers()
    hf_tokenizer = transformers.AutoTokenizer.from_pretrained(str(folder))
    return HuggingFaceTokenizer("huggingface/smollm2-135m", hf_tokenizer, prefix_token=SMOLLM2_PREFIX_TOKEN)
