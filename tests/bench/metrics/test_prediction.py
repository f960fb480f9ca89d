"""The predicted output (and its probability) of each adaptation method, per the adapter contract."""

from __future__ import annotations

import pytest

from bench.adaptation import RequestState
from bench.metrics import predict
from bench.metrics._prediction import choice_letter, softmax
from tests.bench.metrics.builders import FAILED, echo_state, generation_state, instance, joint_state

THREE = instance(["Rome", "Paris", "Oslo"], correct=[1])


def test_generation_prediction_is_the_stripped_first_completion() -> None:
    prediction = predict([generation_state(THREE, "  Paris \n")], "generation")
    assert prediction is not None
    assert prediction.output == "Paris"
    assert prediction.probability is None


def test_failed_or_missing_result_gives_no_prediction() -> None:
    assert predict([generation_state(THREE, "", result=FAILED)], "generation") is None
    missing = generation_state(THREE, "x").model_copy(update={"result": None})
    assert predict([missing], "generation") is None


@pytest.mark.parametrize(("text", "letter"), [("B", "B"), (" B. Paris", "B"), ("(C)", "C"), ("", ""), ("I think", "I")])
def test_choice_letter(text: str, letter: str) -> None:
    assert choice_letter(text) == letter


def test_joint_letters_with_and_without_leading_space_are_one_letter() -> None:
    # " A" and "A" add up: A = 0.3 + 0.3 = 0.6, B = 0.2, C = 0.1 ("D" is not a choice and is ignored).
    # Normalized over A, B, C (total 0.9): A = 2/3, B = 2/9, C = 1/9.
    state = joint_state(THREE, "A.", {" A": 0.3, "A": 0.3, " B": 0.2, "C": 0.1, " D": 0.05})
    prediction = predict([state], "multiple_choice_joint")
    assert prediction is not None
    assert prediction.output == "Rome"
    assert prediction.probability == pytest.approx(2 / 3)


def test_joint_letter_missing_from_top_logprobs_has_probability_zero() -> None:
    # The model answered C but only A and B are in the top-k: C's probability is 0.
    prediction = predict([joint_state(THREE, "C", {" A": 0.5, " B": 0.25})], "multiple_choice_joint")
    assert prediction is not None
    assert (prediction.output, prediction.probability) == ("Oslo", 0.0)


def test_joint_answer_that_names_no_choice() -> None:
    prediction = predict([joint_state(THREE, "Paris", {" A": 0.5})], "multiple_choice_joint")
    assert prediction is not None
    assert (prediction.output, prediction.probability) == (None, 0.0)


def test_joint_without_output_mapping_breaks_the_contract() -> None:
    state = joint_state(THREE, "A", {"A": 1.0}).model_copy(update={"output_mapping": None})
    with pytest.raises(ValueError, match="output_mapping"):
        predict([state], "multiple_choice_joint")


def separate_states() -> list[RequestState]:
    # Two conditioning tokens (logprob -10 each, ignored), then each reference's continuation:
    # Rome: -1.0 - 0.5 = -1.5; Paris: -0.2; Oslo: -3.0
    return [
        echo_state(THREE, [-10.0, -10.0, -1.0, -0.5], 2, reference_index=0),
        echo_state(THREE, [-10.0, -10.0, -0.2], 2, reference_index=1),
        echo_state(THREE, [-10.0, -10.0, -3.0], 2, reference_index=2),
    ]


def test_separate_original_is_the_argmax_of_summed_continuation_logprobs() -> None:
    # softmax: e^-1.5 = 0.223130, e^-0.2 = 0.818731, e^-3 = 0.049787; sum 1.091648 -> Paris 0.749995
    prediction = predict(separate_states(), "multiple_choice_separate_original")
    assert prediction is not None
    assert prediction.output == "Paris"
    assert prediction.probability == pytest.approx(0.7499952062)


def test_separate_calibrated_subtracts_the_calibration_score() -> None:
    two = instance(["Rome", "Paris"], correct=[1])
    states = [
        echo_state(two, [-5.0, -1.5], 1, reference_index=0, request_mode="original"),  # original -1.5
        echo_state(two, [-1.0], 0, reference_index=0, request_mode="calibration"),  # calibration -1.0
        echo_state(two, [-5.0, -2.0], 1, reference_index=1, request_mode="original"),  # original -2.0
        echo_state(two, [-3.0], 0, reference_index=1, request_mode="calibration"),  # calibration -3.0
    ]
    # Uncalibrated, Rome (-1.5) would beat Paris (-2.0); calibrated: Rome -0.5, Paris +1.0.
    original_only = predict([states[0], states[2]], "multiple_choice_separate_original")
    assert original_only is not None and original_only.output == "Rome"
    prediction = predict(states, "multiple_choice_separate_calibrated")
    assert prediction is not None
    assert prediction.output == "Paris"
    assert prediction.probability == pytest.approx(1 / (1 + 2.718281828459045**-1.5))  # 0.817574


def test_separate_ties_go_to_the_first_reference() -> None:
    states = [echo_state(THREE, [-1.0], 0, reference_index=i) for i in range(3)]
    prediction = predict(states, "multiple_choice_separate_original")
    assert prediction is not None
    assert prediction.output == "Rome"
    assert prediction.probability == pytest.approx(1 / 3)


def test_calibrated_without_a_calibration_request_for_every_reference_is_an_error() -> None:
    states = [
        echo_state(THREE, [-1.0], 0, reference_index=0, request_mode="original"),
        echo_state(THREE, [-1.0], 0, reference_index=1, request_mode="original"),
        echo_state(THREE, [-1.0], 0, reference_index=0, request_mode="calibration"),
    ]
    with pytest.raises(ValueError, match="calibration request per reference"):
        predict(states, "multiple_choice_separate_calibrated")


def test_language_modeling_and_empty_groups_have_no_prediction() -> None:
    with pytest.raises(ValueError, match="language_modeling"):
        predict([echo_state(THREE, [-1.0], 0)], "language_modeling")
    with pytest.raises(ValueError, match="at least one"):
        predict([], "generation")


def test_softmax_does_not_overflow() -> None:
    assert softmax([1000.0, 1000.0]) == [0.5, 0.5]
