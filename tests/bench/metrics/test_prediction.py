"""The predicted output (and its probability) of each adaptation method, checked against HELM 0.5.16's rules
(`compute_reference_metrics` for generation and joint, `BasicReferenceMetric.evaluate_references` for separate)
re-implemented here from HELM's source."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import pytest

from bench import GeneratedOutput, Instance
from bench.adaptation import RequestState
from bench.metrics import predict
from bench.metrics._prediction import softmax
from tests.bench.metrics.builders import (
    FAILED,
    completion,
    echo_state,
    generation_state,
    instance,
    joint_state,
    success,
)
from tests.fakes import WordTokenizer

THREE = instance(["Rome", "Paris", "Oslo"], correct=[1])
WORDS = WordTokenizer()


def test_generation_prediction_is_the_stripped_completion() -> None:
    prediction = predict([generation_state(THREE, "  Paris \n")], "generation", WORDS)
    assert prediction is not None
    assert prediction.output == "Paris"
    assert prediction.outputs == ("Paris",)
    assert prediction.probability is None


def test_generation_puts_the_highest_logprob_completion_first() -> None:
    # HELM: sorted(completions, key=lambda x: -x.logprob), a stable sort, so equal logprobs keep their order.
    result = success(
        completion("Rome", [-2.0]), completion(" Paris", [-0.5]), completion("Oslo", [-2.0]), completion("Bern", [-3.0])
    )
    state = generation_state(THREE, "", result=result)
    prediction = predict([state], "generation", WORDS)
    assert prediction is not None
    assert prediction.outputs == ("Paris", "Rome", "Oslo", "Bern")
    assert prediction.output == "Paris"


def test_failed_or_missing_result_gives_no_prediction() -> None:
    assert predict([generation_state(THREE, "", result=FAILED)], "generation", WORDS) is None
    missing = generation_state(THREE, "x").model_copy(update={"result": None})
    assert predict([missing], "generation", WORDS) is None


@pytest.mark.parametrize(
    ("text", "output"),
    [("B", "Paris"), (" B\n", "Paris"), (" B. Paris", None), ("(C)", None), ("B.", None), ("", None), ("b", None)],
)
def test_joint_matches_the_whole_stripped_completion_against_the_letters(text: str, output: str | None) -> None:
    # HELM: output_mapping.get(completion.text.strip()); "(C)" or "B." name no choice.
    prediction = predict([joint_state(THREE, text, {" A": 0.5})], "multiple_choice_joint", WORDS)
    assert prediction is not None
    assert prediction.output == output


def test_joint_max_prob_is_the_probability_of_the_generated_text() -> None:
    # Not the letters' top-k probabilities renormalized: exp of the completion's logprob (-0.1 in the builder).
    state = joint_state(THREE, "A", {" A": 0.3, "A": 0.3, " B": 0.2, "C": 0.1})
    prediction = predict([state], "multiple_choice_joint", WORDS)
    assert prediction is not None
    assert prediction.output == "Rome"
    assert prediction.probability == pytest.approx(math.exp(-0.1))
    # HELM reports it even when the text names no choice.
    unmapped = predict([joint_state(THREE, "Paris", {" A": 0.5})], "multiple_choice_joint", WORDS)
    assert unmapped is not None
    assert (unmapped.output, unmapped.probability) == (None, pytest.approx(math.exp(-0.1)))


def test_joint_with_several_completions_takes_the_most_likely() -> None:
    state = joint_state(THREE, "A", {" A": 0.5})
    result = success(
        GeneratedOutput(text=" A", logprob=-1.2),
        GeneratedOutput(text=" C", logprob=-0.3),
        GeneratedOutput(text="x", logprob=-5.0),
    )
    prediction = predict([state.model_copy(update={"result": result})], "multiple_choice_joint", WORDS)
    assert prediction is not None
    assert prediction.outputs == ("Oslo", "Rome", None)
    assert prediction.probability == pytest.approx(math.exp(-0.3))


def test_joint_without_output_mapping_breaks_the_contract() -> None:
    state = joint_state(THREE, "A", {"A": 1.0}).model_copy(update={"output_mapping": None})
    with pytest.raises(ValueError, match="output_mapping"):
        predict([state], "multiple_choice_joint", WORDS)


def separate_state(
    inst: Instance, index: int, reference_logprobs: Sequence[float], mode: str = "original", prefix: int = 3
) -> RequestState:
    """An echo state: `prefix` prompt tokens (logprob -10) then the reference's words with `reference_logprobs`."""
    words = WORDS.tokenize(" " + inst.references[index].output)
    texts = [f" c{i}" for i in range(prefix)] + words
    logprobs = [-10.0] * prefix + list(reference_logprobs)
    return echo_state(inst, logprobs, prefix, reference_index=index, request_mode=mode, texts=texts)  # type: ignore[arg-type]


def helm_separate(states: Sequence[RequestState], method: str) -> tuple[int, float, float]:
    """HELM 0.5.16 evaluate_references: (predicted_index, max_prob, exact_match), from its source."""
    stats: dict[tuple[int, str], tuple[float, int]] = {}
    for state in states:
        assert state.result is not None and state.reference_index is not None
        reference = state.instance.references[state.reference_index].output
        num_tokens = len(WORDS.tokenize(f" {reference}"))
        answer_tokens = state.result.completions[0].tokens[-num_tokens:]
        stats[(state.reference_index, state.request_mode or "original")] = (
            sum(t.logprob for t in answer_tokens),
            num_tokens,
        )
    references = states[0].instance.references
    n = len(references)
    if method == "multiple_choice_separate_original":
        scores = [stats[(i, "original")][0] / stats[(i, "original")][1] for i in range(n)]
    else:
        scores = [stats[(i, "original")][0] - stats[(i, "calibration")][0] for i in range(n)]
    array = np.array(scores)
    exps = np.exp(array - array.max())  # scipy.special.softmax
    max_prob = float(np.max(exps / exps.sum()))
    argmax = np.flatnonzero(array >= np.max(array))
    answers = [i for i, r in enumerate(references) if r.is_correct]
    return int(argmax[0]), max_prob, len(set(answers).intersection(argmax)) / len(argmax)


def test_separate_original_divides_each_choice_by_its_token_count() -> None:
    # Summed, the one-word "Rome" (-1.5) would win over the three-word "Paris is there" (-3.0);
    # per token, "Paris is there" scores -1.0 and wins. Only the reference's own tokens count, wherever it starts.
    inst = instance(["Rome", "Paris is there", "Oslo"], correct=[1])
    states = [
        separate_state(inst, 0, [-1.5]),
        separate_state(inst, 1, [-1.2, -0.9, -0.9]),
        separate_state(inst, 2, [-4.0], prefix=1),
    ]
    prediction = predict(states, "multiple_choice_separate_original", WORDS)
    assert prediction is not None
    index, max_prob, exact = helm_separate(states, "multiple_choice_separate_original")
    assert prediction.output == inst.references[index].output == "Paris is there"
    assert prediction.probability == pytest.approx(max_prob, abs=1e-12)
    assert prediction.tied_correct == exact == 1.0
    # softmax(-1.5, -1.0, -4.0)[1] = 1 / (1 + e^-0.5 + e^-3)
    assert max_prob == pytest.approx(1 / (1 + math.exp(-0.5) + math.exp(-3.0)))


def test_separate_calibrated_subtracts_the_calibration_sum() -> None:
    two = instance(["Rome", "Paris"], correct=[1])
    states = [
        separate_state(two, 0, [-1.5]),
        separate_state(two, 0, [-1.0], "calibration", prefix=1),
        separate_state(two, 1, [-2.0]),
        separate_state(two, 1, [-3.0], "calibration", prefix=1),
    ]
    prediction = predict(states, "multiple_choice_separate_calibrated", WORDS)
    assert prediction is not None
    index, max_prob, exact = helm_separate(states, "multiple_choice_separate_calibrated")
    assert (prediction.output, index) == ("Paris", 1)
    assert prediction.probability == pytest.approx(max_prob, abs=1e-12) == pytest.approx(1 / (1 + math.exp(-1.5)))
    assert prediction.tied_correct == exact == 1.0


def test_separate_ties_predict_the_first_and_share_the_credit() -> None:
    states = [separate_state(THREE, i, [-1.0]) for i in range(3)]
    prediction = predict(states, "multiple_choice_separate_original", WORDS)
    assert prediction is not None
    assert prediction.output == "Rome"
    assert prediction.probability == pytest.approx(1 / 3)
    # HELM: exact_match = |correct ∩ argmax| / |argmax| = 1/3 (only Paris is correct).
    assert (
        prediction.tied_correct == pytest.approx(1 / 3) == helm_separate(states, "multiple_choice_separate_original")[2]
    )


def test_calibrated_without_a_calibration_request_for_every_reference_is_an_error() -> None:
    states = [
        separate_state(THREE, 0, [-1.0]),
        separate_state(THREE, 1, [-1.0]),
        separate_state(THREE, 0, [-1.0], "calibration"),
    ]
    with pytest.raises(ValueError, match="calibration request per reference"):
        predict(states, "multiple_choice_separate_calibrated", WORDS)


def test_language_modeling_and_empty_groups_have_no_prediction() -> None:
    with pytest.raises(ValueError, match="language_modeling"):
        predict([echo_state(THREE, [-1.0], 0)], "language_modeling", WORDS)
    with pytest.raises(ValueError, match="at least one"):
        predict([], "generation", WORDS)


def test_softmax_does_not_overflow() -> None:
    assert softmax([1000.0, 1000.0]) == [0.5, 0.5]


def helm_apply_output_mapping_pattern(pattern: str, prediction: str) -> str:
    """HELM 0.5.16 evaluate_reference_metrics._apply_output_mapping_pattern, from its source."""
    match = re.search(pattern, prediction)
    if not match:
        return ""
    elif match.groups():
        return match.group(1)
    else:
        return match.group(0)


@pytest.mark.parametrize("pattern", [r"\(?([A-Z])\b", r"[A-Z]", r"^([A-C])$"])
@pytest.mark.parametrize("text", ["(B)", " B. Paris", "C", "I think A", "", "x"])
def test_joint_output_mapping_pattern_is_helms_lenient_reading(pattern: str, text: str) -> None:
    state = joint_state(THREE, text, {" A": 0.5})
    prediction = predict([state], "multiple_choice_joint", WORDS, pattern)
    assert prediction is not None
    assert state.output_mapping is not None
    assert prediction.output == state.output_mapping.get(helm_apply_output_mapping_pattern(pattern, text.strip()))


def test_a_pattern_that_is_not_a_regex_is_refused_when_the_spec_is_built() -> None:
    from pydantic import ValidationError

    from bench.adaptation import AdapterSpec

    with pytest.raises(ValidationError, match=r"output_mapping_pattern='\(B' must be a regular expression"):
        AdapterSpec(method="multiple_choice_joint", output_mapping_pattern="(B")
