"""calibration: max_prob per instance and an exactly mergeable 10-bin ECE."""

from __future__ import annotations

import math

import pytest

from bench import MetricName, Stat, merge_stats
from bench.metrics import create_metric, expected_calibration_error
from bench.metrics._ece import ece_bin
from tests.bench.metrics.builders import FAILED, context, echo_state, generation_state, instance, joint_state

CTX = context("multiple_choice_joint")
# (probability of the letter the model answers, whether that answer is right)
CASES = [(0.95, True), (0.85, False), (0.92, True), (0.55, True), (0.45, False)]


def case_stats(confidence: float, correct: bool, index: int) -> list[Stat]:
    """Stats of one joint instance: the model answers "A" with probability `confidence` (HELM's max_prob)."""
    inst = instance(["yes", "no"], correct=[0 if correct else 1], id_=f"id{index}")
    # The letters' top-k probabilities play no part: max_prob is the probability of the generated text.
    state = joint_state(inst, "A", {" A": 0.5, " B": 0.5}, logprob=math.log(confidence))
    return create_metric("calibration", {}).evaluate_instance([state], CTX)


def derive(stats: dict[MetricName, Stat]) -> dict[str, float]:
    derived = create_metric("calibration", {}).derive({k.name: v for k, v in stats.items()}, CTX)
    return {s.name.name: s.sum for s in derived}


def test_instance_stats() -> None:
    stats = case_stats(0.95, True, 0)
    assert {s.name.name: s.sum for s in stats} == pytest.approx(
        {"max_prob": 0.95, "_ece_bin9_confidence": 0.95, "_ece_bin9_correct": 1.0}
    )


def test_ece_of_five_instances_across_bins() -> None:
    # bin 9: 0.95 right, 0.92 right -> |2 - 1.87| = 0.13
    # bin 8: 0.85 wrong -> |0 - 0.85| = 0.85
    # bin 5: 0.55 right -> |1 - 0.55| = 0.45
    # bin 4: 0.45 wrong -> |0 - 0.45| = 0.45
    # ECE = sum_b n_b/N |acc_b - conf_b| = (0.13 + 0.85 + 0.45 + 0.45) / 5 = 0.376
    stats = merge_stats({}, [s for i, (p, ok) in enumerate(CASES) for s in case_stats(p, ok, i)])
    assert derive(stats) == pytest.approx({"ece_10_bin": 0.376})


def test_merge_property() -> None:
    all_stats = [case_stats(p, ok, i) for i, (p, ok) in enumerate(CASES)]
    at_once = merge_stats({}, [s for stats in all_stats for s in stats])
    first = merge_stats({}, [s for stats in all_stats[:2] for s in stats])
    second = merge_stats({}, [s for stats in all_stats[2:] for s in stats])
    assert derive(merge_stats(first, list(second.values()))) == pytest.approx(derive(at_once))


def test_bins() -> None:
    assert [ece_bin(p) for p in (0.0, 0.05, 0.1, 0.3, 0.7, 0.99, 1.0)] == [0, 0, 1, 3, 7, 9, 9]


def test_separate_probability_is_the_softmax_of_scores() -> None:
    inst = instance(["Rome", "Paris"], correct=[1])
    states = [echo_state(inst, [-2.0], 0, reference_index=0), echo_state(inst, [-1.0], 0, reference_index=1)]
    stats = create_metric("calibration", {}).evaluate_instance(states, context("multiple_choice_separate_original"))
    # softmax(-2, -1)[1] = 1 / (1 + e^-1) = 0.731059, in bin 7, and Paris is correct
    assert {s.name.name: s.sum for s in stats} == pytest.approx(
        {"max_prob": 0.731059, "_ece_bin7_confidence": 0.731059, "_ece_bin7_correct": 1.0}
    )


def test_failed_request_and_other_methods_get_no_stats() -> None:
    inst = instance(["yes", "no"], correct=[0])
    failed = joint_state(inst, "A", {"A": 1.0}).model_copy(update={"result": FAILED})
    assert create_metric("calibration", {}).evaluate_instance([failed], CTX) == []
    assert create_metric("calibration", {}).evaluate_instance([generation_state(inst, "yes")], context()) == []


def test_no_valid_choice_counts_as_wrong_with_the_texts_probability() -> None:
    # HELM: max_prob is exp(logprob) of the completion whatever it says; "maybe" names no choice, so it is wrong.
    inst = instance(["yes", "no"], correct=[0])
    state = joint_state(inst, "maybe", {"A": 0.9}, logprob=math.log(0.3))
    stats = create_metric("calibration", {}).evaluate_instance([state], CTX)
    assert {s.name.name: s.sum for s in stats} == pytest.approx(
        {"max_prob": 0.3, "_ece_bin3_confidence": 0.3, "_ece_bin3_correct": 0.0}
    )


def test_separate_ties_count_as_partly_correct() -> None:
    # Two references tied, one correct: HELM's exact_match (the correctness ECE uses) is 1/2.
    inst = instance(["Rome", "Paris"], correct=[1])
    states = [echo_state(inst, [-1.0], 0, reference_index=0), echo_state(inst, [-1.0], 0, reference_index=1)]
    stats = create_metric("calibration", {}).evaluate_instance(states, context("multiple_choice_separate_original"))
    assert {s.name.name: s.sum for s in stats} == pytest.approx(
        {"max_prob": 0.5, "_ece_bin5_confidence": 0.5, "_ece_bin5_correct": 0.5}
    )


def test_ece_of_no_instances_is_absent() -> None:
    assert expected_calibration_error({}) is None
    assert create_metric("calibration", {}).derive({}, CTX) == []
