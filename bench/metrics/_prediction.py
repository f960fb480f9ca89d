"""What one instance's request states predict, for every adaptation method but language modeling.

reference_match and calibration both need "the predicted output" (and, for multiple choice, the model's
probability of it); this module derives it once, following the contract with the adapters:

- generation: the first completion's text, stripped.
- multiple_choice_joint: the first token of the stripped completion, without surrounding punctuation
  ("B." and "(B)" give "B"), looked up in `output_mapping`; the letter probabilities come from the first
  completion token's `top_logprobs` (" A" and "A" are the same letter, their probabilities add up),
  normalized over the letters of `output_mapping` (a letter missing from the top-k has probability 0).
- multiple_choice_separate_original: each reference's score is the sum of its scored tokens' logprobs;
  the prediction is the argmax (first on ties), its probability the softmax of the scores.
- multiple_choice_separate_calibrated: score = original score - calibration score, then as above.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.adaptation._adapter_spec import (
    ADAPT_GENERATION,
    ADAPT_MULTIPLE_CHOICE_JOINT,
    ADAPT_MULTIPLE_CHOICE_SEPARATE_CALIBRATED,
    ADAPT_MULTIPLE_CHOICE_SEPARATE_ORIGINAL,
)
from bench.adaptation._request_state import RequestState
from bench.metrics._states import any_failed, scored_logprob

MULTIPLE_CHOICE_METHODS = (
    ADAPT_MULTIPLE_CHOICE_JOINT,
    ADAPT_MULTIPLE_CHOICE_SEPARATE_ORIGINAL,
    ADAPT_MULTIPLE_CHOICE_SEPARATE_CALIBRATED,
)
_PUNCTUATION_AROUND_LETTER = "()[]{}.,:;'\"*"


@dataclass(frozen=True)
class Prediction:
    """The predicted output of one instance (one train trial)."""

    output: str | None
    """The predicted text; for multiple choice the chosen reference's output; None if no valid choice."""
    probability: float | None = None
    """Multiple choice only: the model's probability of the predicted choice (0 if no valid choice)."""


def predict(states: Sequence[RequestState], method: str) -> Prediction | None:
    """The prediction of one instance's request states, or None when a request failed.

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
        return _predict_joint(states[0])
    if method in (ADAPT_MULTIPLE_CHOICE_SEPARATE_ORIGINAL, ADAPT_MULTIPLE_CHOICE_SEPARATE_CALIBRATED):
        return _predict_separate(states)
    raise ValueError(
        f"no prediction for adaptation method {method!r}; expected one of generation, {MULTIPLE_CHOICE_METHODS}"
    )


def _predict_generation(state: RequestState) -> Prediction:
    assert state.result is not None
    completions = state.result.completions
    return Prediction(output=completions[0].text.strip() if completions else "")


def choice_letter(text: str) -> str:
    """The first whitespace-separated token of `text` without the punctuation around it ("(B)." -> "B")."""
    words = text.strip().split(maxsplit=1)
    return words[0].strip(_PUNCTUATION_AROUND_LETTER) if words else ""


def letter_probabilities(state: RequestState, letters: Sequence[str]) -> dict[str, float]:
    """Each letter's probability from the first completion token's top_logprobs, normalized over `letters`."""
    assert state.result is not None
    completions = state.result.completions
    top = completions[0].tokens[0].top_logprobs if completions and completions[0].tokens else {}
    mass = dict.fromkeys(letters, 0.0)
    for key, logprob in top.items():
        letter = key.strip()
        if letter in mass:
            mass[letter] += math.exp(logprob)
    total = sum(mass.values())
    return {letter: (p / total if total > 0 else 0.0) for letter, p in mass.items()}


def _predict_joint(state: RequestState) -> Prediction:
    if state.output_mapping is None:
        raise ValueError("multiple_choice_joint request state without output_mapping")
    assert state.result is not None
    text = state.result.completions[0].text if state.result.completions else ""
    letter = choice_letter(text)
    probabilities = letter_probabilities(state, list(state.output_mapping))
    if letter not in state.output_mapping:
        return Prediction(output=None, probability=0.0)
    return Prediction(output=state.output_mapping[letter], probability=probabilities[letter])


def reference_scores(states: Sequence[RequestState]) -> dict[int, float]:
    """Score of each reference index: original logprob minus calibration logprob (when there is one)."""
    original: dict[int, float] = {}
    calibration: dict[int, float] = {}
    for state in states:
        if state.reference_index is None:
            raise ValueError("multiple_choice_separate request state without reference_index")
        target = calibration if state.request_mode == "calibration" else original
        target[state.reference_index] = scored_logprob(state)
    if calibration and set(calibration) != set(original):
        raise ValueError(
            f"calibrated multiple choice needs an original and a calibration request per reference; "
            f"original for {sorted(original)}, calibration for {sorted(calibration)}"
        )
    return {index: score - calibration.get(index, 0.0) for index, score in original.items()}


def softmax(scores: Sequence[float]) -> list[float]:
    """exp(s_i) / sum_j exp(s_j), shifted by the maximum so that large logprobs do not overflow."""
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


def _predict_separate(states: Sequence[RequestState]) -> Prediction:
    scores = reference_scores(states)
    indices = sorted(scores)
    probabilities = softmax([scores[i] for i in indices])
    best = max(range(len(indices)), key=lambda k: (scores[indices[k]], -k))
    references = states[0].instance.references
    return Prediction(output=references[indices[best]].output, probability=probabilities[best])
