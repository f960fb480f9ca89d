"""The language_modeling adapter: score every token of a document with sliding windows.

The document (the instance's input; references are ignored) is tokenized with the adapter's tokenizer and
cut into windows of at most W = context_window - 1 tokens. One position is left for the tokenizer's
`prefix_token` ("<|endoftext|>"), which starts the first window's prompt, as in HELM: the model reads the
document's first token after a start-of-text token, so that token is scored like any other instead of
getting the 0.0 an API gives the first token of a prompt (which made perplexity optimistic, most on short
documents). Clients read the prefix as that one special token, never as text.

- The first window is the prefix then tokens [0, min(W, n)); it scores all of those document tokens
  (num_conditioning_tokens = 1: the prefix; 0 for a tokenizer without one).
- Each next window scores at most S = max(1, W // 2) new tokens (the stride) and conditions on as many
  of the tokens before them as fit: it holds tokens [end - W, end), of which the first W - new condition.
- Windows are cut only where the cut splits no character and both sides re-encode to the same tokens
  (`clean_cut`), moving a window's end back and its start forward; so a byte-level BPE prompt never holds
  half a character (HELM strips the U+FFFD such cuts produce and recounts).

So every token is scored exactly once, and after the first window each scored token sees nearly W - S
tokens of context. HELM (after EleutherAI's lm_perplexity) scores W - 1 new tokens per window, conditioning
later windows on as little as one token: half as many requests, much less context for the tokens at the
start of each window. The half-window stride is the usual trade-off for perplexity (HF's guide).

Prompts are `tokenizer.decode(window ids)`. When a prompt does not re-encode to the window's ids (no clean
cut nearby), its conditioning count is recomputed on the re-encoded prompt (`count_leading_tokens`) and
coverage is then only approximate. An empty document gives no request. Train trials do not apply (no
examples): one pass.
"""

from __future__ import annotations

import logging

from bench._instance import TRAIN_SPLIT, Instance
from bench._request import Request
from bench.adaptation._adapter import Adapter, adapter
from bench.adaptation._adapter_spec import AdapterSpec
from bench.adaptation._errors import AdaptationError
from bench.adaptation._prompt import count_leading_tokens
from bench.adaptation._request_state import RequestState
from bench.adaptation._windows import Window, clean_cut, sliding_windows
from bench.tokenizers._tokenizer import Tokenizer

logger = logging.getLogger(__name__)

RESERVED_TOKENS = 1
"""Context-window positions left for the tokenizer's prefix token before the first window."""


@adapter("language_modeling")
class LanguageModelingAdapter(Adapter):
    """Echo requests (max_tokens=0, temperature 0) over sliding windows of each evaluation document."""

    def __init__(self, adapter_spec: AdapterSpec, tokenizer: Tokenizer, context_window: int) -> None:
        super().__init__(adapter_spec, tokenizer, context_window)
        self.window = context_window - RESERVED_TOKENS
        if self.window < 1:
            raise AdaptationError(
                method=adapter_spec.method, problem=f"a context window of {context_window} tokens is too small"
            )
        self.stride = max(1, self.window // 2)

    def adapt(self, instances: list[Instance]) -> list[RequestState]:
        """Request states for every evaluation document, window by window, in instance order."""
        states: list[RequestState] = []
        for instance in instances:
            if instance.split != TRAIN_SPLIT:
                states.extend(self.generate_requests(instance))
        logger.info("language_modeling: %d request states", len(states))
        return states

    def generate_requests(self, instance: Instance) -> list[RequestState]:
        """One request state per window of `instance.input`."""
        ids = self.tokenizer.encode(instance.input)
        if not ids:
            logger.warning("instance %s has an empty document: no request", instance.id)
        windows = sliding_windows(len(ids), self.window, self.stride, lambda p: clean_cut(self.tokenizer, ids, p))
        return [self.window_state(instance, ids, window) for window in windows]

    def window_state(self, instance: Instance, ids: list[int], window: Window) -> RequestState:
        """The echo request for one window (the one starting the document begins with the prefix token)."""
        prompt = self.tokenizer.decode(ids[window.start : window.end])
        num_conditioning = window.scored_from - window.start
        if self.tokenizer.encode(prompt) != ids[window.start : window.end]:
            conditioning_text = self.tokenizer.decode(ids[window.start : window.scored_from])
            num_conditioning = count_leading_tokens(self.tokenizer, prompt, len(conditioning_text))
        if window.start == 0 and self.tokenizer.prefix_token:
            prompt = self.tokenizer.prefix_token + prompt
            num_conditioning += 1
        request = Request(
            model=self.adapter_spec.model,
            prompt=prompt,
            temperature=0.0,
            num_completions=1,
            max_tokens=0,
            echo_prompt=True,
            random=self.adapter_spec.random,
        )
        return RequestState(instance=instance, request=request, num_conditioning_tokens=num_conditioning)
