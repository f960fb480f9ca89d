"""`language_modeling`: logprob, tokens and bytes of the scored text; perplexity and bits per byte.

Each window (request state) scores `completions[0].tokens[num_conditioning_tokens:]`. Per instance the
sums over its windows are Stats; `derive` turns the merged sums of a slice into
perplexity = exp(-logprob / num_tokens), bits_per_byte = -logprob / (num_bytes * ln 2) and
logprob_per_byte = logprob / num_bytes, so sharded runs give the same figures as one run. Bytes are
counted as HELM counts them: a `bytes:\\xe2\\x80` token (part of a character) is its 2 bytes, any other
token the UTF-8 bytes of its text (`count_token_bytes`). An instance with a failed window is left out entirely.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from bench._stat import Stat
from bench.adaptation._request_state import RequestState
from bench.metrics._metric import Metric, MetricContext, metric, plain
from bench.metrics._states import any_failed, scored_tokens
from bench.tokenizers._token_bytes import count_token_bytes


@metric("language_modeling")
class LanguageModelingMetric(Metric):
    """logprob, num_tokens, num_bytes per instance; perplexity, bits_per_byte, logprob_per_byte per slice."""

    def evaluate_instance(self, request_states: Sequence[RequestState], context: MetricContext) -> list[Stat]:
        """Sums over the instance's windows, or no Stats if a window failed."""
        if any_failed(request_states):
            return []
        tokens = [token for state in request_states for token in scored_tokens(state)]
        return [
            plain("logprob", sum(token.logprob for token in tokens)),
            plain("num_tokens", len(tokens)),
            plain("num_bytes", sum(count_token_bytes(token.text) for token in tokens)),
        ]

    def derive(self, stats: Mapping[str, Stat], context: MetricContext) -> list[Stat]:
        """Ratios of the merged sums; each omitted when its denominator is missing or zero."""
        logprob = stats.get("logprob")
        if logprob is None or logprob.count == 0:
            return []
        derived = []
        num_tokens = stats.get("num_tokens")
        if num_tokens is not None and num_tokens.sum > 0:
            derived.append(plain("perplexity", math.exp(-logprob.sum / num_tokens.sum)))
        num_bytes = stats.get("num_bytes")
        if num_bytes is not None and num_bytes.sum > 0:
            derived.append(plain("bits_per_byte", -logprob.sum / (num_bytes.sum * math.log(2))))
            derived.append(plain("logprob_per_byte", logprob.sum / num_bytes.sum))
        return derived
