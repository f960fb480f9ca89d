"""The local model's own tokenizer (transformers), read from the model's plain cached copy.

The plain copy is made once from the GGUF file (see bench/models/_smollm2.py); the tokenizer and the
`local` client share it, so after the first conversion this tokenizer loads in well under a second.
"""

from __future__ import annotations

from typing import Any

from bench.tokenizers._tokenizer import Tokenizer, tokenizer


class HuggingFaceTokenizer(Tokenizer):
    """A `Tokenizer` over a transformers tokenizer.

    `encode` adds no special tokens (no BOS) and reads special-token text such as "<|im_end|>" as ordinary
    text, as the tiktoken tokenizers do: a prompt that quotes a control token cannot end a conversation.
    """

    def __init__(self, name: str, hf_tokenizer: Any) -> None:
        self.name = name
        self.hf_tokenizer = hf_tokenizer

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


@tokenizer("huggingface/smollm2-135m")
def smollm2_135m() -> Tokenizer:
    """SmolLM2-135M-Instruct's tokenizer (byte-level BPE, 49152 tokens).

    Raises:
        ModelUnavailableError: if the local model's packages are missing (see `make install`).
    """
    from bench.models._smollm2 import offline_transformers, plain_copy_dir

    folder = plain_copy_dir()
    transformers = offline_transformers()
    return HuggingFaceTokenizer("huggingface/smollm2-135m", transformers.AutoTokenizer.from_pretrained(str(folder)))
