"""`copyright`: how much of the true continuation a model reproduces verbatim (HELM's copyright metrics).

For each completion, the completion (stripped) and the reference (the rest of the text after the prefix, without
its leading whitespace, so that both start alike) are compared, the reference cut to the completion's length in
characters; then both are tokenized with the model's tokenizer (`MetricContext.tokenizer`) and compared token by
token (HELM uses NLTK's Treebank word tokenizer; model tokens need no extra package and match what the model
emits):

- longest_common_prefix_length: tokens both sequences share from the start.
- edit_distance: Levenshtein distance between the token sequences (insert, delete, replace cost 1).
- edit_similarity: 1 - edit_distance / max(len), 0 when either sequence is empty (Lee et al., 2021).

With several completions the best one counts (longest prefix, smallest distance, highest similarity).
`normalize_by_prefix_length` divides the prefix length and the distance by the prompt's token count (HELM's
option for comparing data tags of different prefix lengths); `normalize_newline_space_tab` turns newlines and
tabs into spaces and collapses runs of spaces in both texts first (off for source code, where layout matters).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from bench._stat import Stat
from bench.adaptation._request_state import RequestState
from bench.metrics._metric import Metric, MetricContext, metric, plain
from bench.metrics._states import any_failed


def longest_common_prefix_length(a: Sequence[int], b: Sequence[int]) -> int:
    """Number of leading positions where `a` and `b` hold the same token."""
    length = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        length += 1
    return length


def edit_distance(a: Sequence[int], b: Sequence[int]) -> int:
    """Levenshtein distance between two token sequences.

    The usual dynamic programme, one row per token of `a`, each row computed with numpy: the substitution and
    deletion candidates are elementwise, and insertions (cur[j] <= cur[j-1] + 1) are a running minimum of
    cur[j] - j, so each row costs O(len(b)) vector work instead of a Python loop.
    """
    if not a or not b:
        return max(len(a), len(b))
    right = np.asarray(b)
    offsets = np.arange(len(right) + 1)
    previous = offsets.copy()
    for i, token in enumerate(a, start=1):
        candidates = np.empty_like(previous)
        candidates[0] = i
        candidates[1:] = np.minimum(previous[1:] + 1, previous[:-1] + (right != token))
        previous = np.minimum.accumulate(candidates - offsets) + offsets
    return int(previous[-1])


def edit_similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """1 - edit_distance / max(len(a), len(b)); 0 if either is empty."""
    if not a or not b:
        return 0.0
    return 1.0 - edit_distance(a, b) / max(len(a), len(b))


def normalize_whitespace(text: str) -> str:
    """Newlines and tabs become spaces; runs of spaces become one."""
    return re.sub(" +", " ", text.replace("\n", " ").replace("\t", " "))


@metric("copyright")
class CopyrightMetric(Metric):
    """longest_common_prefix_length, edit_distance and edit_similarity against the true continuation."""

    def __init__(self, normalize_by_prefix_length: bool = False, normalize_newline_space_tab: bool = False) -> None:
        """Args:
        normalize_by_prefix_length: divide the prefix length and the edit distance by the prompt's tokens.
        normalize_newline_space_tab: compare texts with newlines and tabs as single spaces.
        """
        self.normalize_by_prefix_length = normalize_by_prefix_length
        self.normalize_newline_space_tab = normalize_newline_space_tab

    def evaluate_instance(self, request_states: Sequence[RequestState], context: MetricContext) -> list[Stat]:
        """The three figures for the best completion, or none for a failed request or no reference."""
        state = request_states[0]
        reference = state.instance.first_correct_reference
        if any_failed(request_states) or reference is None or state.result is None:
            return []
        tokenizer = context.tokenizer
        target = self._normalize(reference.output.lstrip())
        prefix_lengths, distances, similarities = [], [], []
        for completion in state.result.completions:
            text = self._normalize(completion.text.strip())
            produced = tokenizer.encode(text)
            expected = tokenizer.encode(target[: len(text)])
            prefix_lengths.append(longest_common_prefix_length(produced, expected))
            distances.append(edit_distance(produced, expected))
            similarities.append(edit_similarity(produced, expected))
        if not prefix_lengths:
            return []
        scale = 1.0
        if self.normalize_by_prefix_length:
            scale = 1.0 / max(1, tokenizer.count_tokens(state.instance.input))
        return [
            plain("longest_common_prefix_length", max(prefix_lengths) * scale),
            plain("edit_distance", min(distances) * scale),
            plain("edit_similarity", max(similarities)),
        ]

    def _normalize(self, text: str) -> str:
        return normalize_whitespace(text) if self.normalize_newline_space_tab else text
