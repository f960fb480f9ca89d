"""What one instance's request states predict, for every adaptation method but language modeling.

reference_match and calibration both need "the predicted output" (and, for multiple choice, the model's
probability of it); this module derives it once, as HELM 0.5.16 does
(`evaluate_reference_metrics.compute_reference_metrics` and `basic_metrics.BasicReferenceMetric`):

- generation: the completions sorted by their logprob, highest first (a stable sort, so ties keep their
  order), each stripped; the first is the prediction, all of them count for the `@k` figures.
- multiple_choice_joint: the same sorted, stripped completions, each looked up as a whole in
  `output_mapping` ("B" is choice B; " B. Paris" and "(B)" name no choice, as in HELM), unless the adapter
  spec's `output_mapping_pattern` first picks the letter out of the answer (HELM's lenient option). The probability
  (`max_prob`) is exp of the best completion's logprob: the probability of the text the model generated.
- multiple_choice_separate_original: each reference's score is the mean logprob of its tokens, the last
  n tokens of the echoed prompt where n is the number of tokens of " <reference>" (HELM prepends the space);
  the prediction is the argmax (first on ties), its probability the softmax of the scores.
- multiple_choice_separate_calibrated: score = summed logprob of those tokens in the original request minus
  the same in the calibration request, then as above.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bench._request import Token
from bench.adaptation._adapter_spec import (
    ADAPT_GENERATION,
    ADAPT_MULTIPLE_CHOICE_JOINT,
    ADAPT_MULTIPLE_CHOICE_SEPARATE_CALIBRATED,
    ADAPT_MULTIPLE_CHOICE_SEPARATE_ORIGINAL,
)
from bench.adaptation._request_state import RequestState
from bench.metrics._states import any_failed
from bench.tokenizers._tokenizer import Tokenizer

MULTIPLE_CHOICE_METHODS = (
    ADAPT_MULTIPLE_CHOICE_JOINT,
    ADAPT_MULTIPLE_CHOICE_SEPARATE_ORIGINAL,
    ADAPT_MULTIPLE_CHOICE_SEPARATE_CALIBRATED,
)
SEPARATE_METHODS = (ADAPT_MULTIPLE_CHOICE_SEPARATE_ORIGINAL, ADAPT_MULTIPLE_CHOICE_SEPARATE_CALIBRATED)


@dataclass(frozen=True)
class Prediction:
    """The predicted output of one instance (one train trial)."""

    output: str | None
    """The predicted text; for multiple choice the chosen reference's output; None if no valid choice."""
    probability: float | None = None
    """Multiple choice only: the model's probability of its prediction (HELM's max_prob)."""
    outputs: tuple[str | None, ...] = ()
    """Generation and joint: every completion's prediction, highest logprob first (`output` is the first)."""
    tied_correct: float | None = None
    """Separate methods: the fraction of the references tied for the best score that are correct, which is
    HELM's exact_match for these methods (1 or 0 when there is no tie); None for the other methods."""


def predict(
    states: Sequence[RequestState], method: str, tokenizer: Tokenizer, output_mapping_pattern: str | None = None
) -> Prediction | None:
    """The prediction of one instance's request states, or None when a request failed.

    Args:
        tokenizer: the model's tokenizer; the separate methods count each reference's tokens with it.
        output_mapping_pattern: joint only, the adapter spec's pattern applied to each answer before the
            letter lookup (HELM's `_apply_output_mapping_pattern`); None looks up the whole stripped answer.

    Raises:
        ValueError: for no states, language_modeling, or states that break the adapter contract.
    """
    if not states:
        raise ValueError("predict needs at least one request state")
    if any_failed(states):
        return None
    if method == ADAPT_GENERATION:
        return _predict_generation(states[0])
    if method == ADAPT_MULTIPLE_CHOICE_JOINT:
        return _predict_joint(states[0], output_mapping_pattern)
    if method in SEPARATE_METHODS:
        return _predict_separate(states, method, tokenizer)
    raise ValueError(
        f"no prediction for adaptation method {method!r}; expected one of generation, {MULTIPLE_CHOICE_METHODS}"
    )


def _sorted_texts(state: RequestState) -> tuple[list[str], float | None]:
    """The stripped completion texts, highest logprob first, and the best completion's logprob."""
    assert state.result is not None
    completions = sorted(state.result.completions, key=lambda completion: -completion.logprob)
    if not completions:
        return [""], None
    return [completion.text.strip() for completion in completions], completions[0].logprob


def _predict_generation(state: RequestState) -> Prediction:
    texts, _ = _sorted_texts(state)
    return Prediction(output=texts[0], outputs=tuple(texts))


def apply_output_mapping_pattern(pattern: str, answer: str) -> str:
    """The part of `answer` that `pattern` picks: its group 1 if it has groups, else the match ("" if none)."""
    match = re.search(pattern, answer)
    if match is None:
        return ""
    return match.group(1) if match.groups() else match.group(0)


def _predict_joint(state: RequestState, pattern: str | None) -> Prediction:
    if state.output_mapping is None:
        raise ValueError("multiple_choice_joint request state without output_mapping")
    texts, logprob = _sorted_texts(state)
    if pattern is not None:
        texts = [apply_output_mapping_pattern(pattern, text) for text in texts]
    outputs = tuple(state.output_mapping.get(text) for text in texts)
    probability = math.exp(logprob) if logprob is not None else 0.0
    return Prediction(output=outputs[0], probability=probability, outputs=outputs)


def reference_tokens(state: RequestState, tokenizer: Tokenizer) -> tuple[Token, ...]:
    """The echoed tokens that spell the state's reference: the last len(tokenize(" " + reference)) tokens.

    HELM counts the reference's tokens with a space before it, because the prompt always has one there.

    Raises:
        ValueError: when the state has no reference_index or no completion.
    """
    if state.reference_index is None:
        raise ValueError("multiple_choice_separate request state without reference_index")
    assert state.result is not None
    if not state.result.completions:
        raise ValueError("multiple_choice_separate request state whose result has no completion")
    reference = state.instance.references[state.reference_index].output
    num_tokens = tokenizer.count_tokens(f" {reference}")
    tokens = state.result.completions[0].tokens
    return tokens[len(tokens) - num_tokens :] if num_tokens else ()


def reference_scores(states: Sequence[RequestState], method: str, tokenizer: Tokenizer) -> dict[int, float]:
    """Score of each reference index: mean token logprob (original) or original minus calibration logprob.

    Raises:
        ValueError: when a state has no reference_index, or calibrated requests do not pair up.
    """
    original: dict[int, tuple[float, int]] = {}
    calibration: dict[int, tuple[float, int]] = {}
    for state in states:
        tokens = reference_tokens(state, tokenizer)
        target = calibration if state.request_mode == "calibration" else original
        assert state.reference_index is not None
        target[state.reference_index] = (sum(token.logprob for token in tokens), len(tokens))
    if method == ADAPT_MULTIPLE_CHOICE_SEPARATE_ORIGINAL:
        return {index: logprob / max(count, 1) for index, (logprob, count) in original.items()}
    if set(calibration) != set(original):
        raise ValueError(
            f"calibrated multiple choice needs an original and a calibration request per reference; "
            f"original for {sorted(original)}, calibration for {sorted(calibration)}"
        )
    return {index: logprob - calibration[index][0] for index, (logprob, _) in original.items()}


def softmax(scores: Sequence[float]) -> list[float]:
    """exp(s_i) / sum_j exp(s_j), shifted by the maximum so that large logprobs do not overflow."""
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def _predict_separate(states: Sequence[RequestState], method: str, tokenizer: Tokenizer) -> Prediction:
    scores = reference_scores(states, method, tokenizer)
    indices = sorted(scores)
    values = [scores[i] for i in indices]
    probabilities = softmax(values)
    best_score = max(values)
    tied = [index for index in indices if scores[index] >= best_score]
    references = states[0].instance.references
    tied_correct = sum(1 for index in tied if references[index].is_correct) / len(tied)
    return Prediction(output=references[tied[0]].output, probability=max(probabilities), tied_correct=tied_correct)
