"""calibration: max_prob per instance, HELM's equal-mass ECE from samples, and the mergeable equal-width ECE.

Parity of ece_10_bin / ece_1_bin with uncertainty-calibration on random sets, and their independence of the
sharding, are in test_helm_parity.py.
"""

from __future__ import annotations

import math

import pytest

from bench import MetricName, Stat, merge_stats
from bench.metrics import create_metric, ece_equal_width, sorted_samples
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


def derive_samples(pairs: list[tuple[float, bool]], trial: int = 0) -> dict[str, Stat]:
    """ece_10_bin and ece_1_bin of the (confidence, correct) pairs, given as samples of train trial `trial`."""
    samples = [{"confidence": p, "correct": float(ok), "trial": float(trial)} for p, ok in pairs]
    derived = create_metric("calibration", {}).derive_samples({"calibration": sorted_samples(samples)}, CTX)
    return {s.name.name: s for s in derived}


SAMPLE = {"_sample:calibration:confidence": 0.95, "_sample:calibration:correct": 1.0, "_sample:calibration:trial": 0.0}


def test_instance_stats() -> None:
    stats = case_stats(0.95, True, 0)
    assert {s.name.name: s.sum for s in stats} == pytest.approx(
        {"max_prob": 0.95, **SAMPLE, "_ece_bin9_confidence": 0.95, "_ece_bin9_correct": 1.0}
    )


def test_equal_mass_ece_of_five_instances() -> None:
    # 5 pairs in 10 bins: get_ece_em uses min(10, 5) = 5 bins, one instance each, so
    # ECE = mean |confidence - correct| = (0.05 + 0.85 + 0.08 + 0.45 + 0.45) / 5 = 0.376
    # one bin: |mean confidence - accuracy| = |3.72 / 5 - 3 / 5| = 0.144
    derived = derive_samples(CASES)
    assert derived["ece_10_bin"].mean == pytest.approx(0.376)
    assert derived["ece_1_bin"].mean == pytest.approx(0.144)
    assert derived["ece_10_bin"].count == 1


def test_equal_mass_bins_hold_equal_numbers_of_instances() -> None:
    # 20 instances, 10 bins of 2 sorted neighbours: (0.1 wrong, 0.1 right) -> |0.1 - 0.5| = 0.4 for bin 1, and
    # each pair (p wrong, p right) likewise |p - 0.5|. Equal-width bins would give the same here; they differ
    # below, where all 20 confidences fall in one width bin but still make 10 mass bins.
    pairs = [(p / 10, ok) for p in range(1, 11) for ok in (False, True)]
    expected = sum(abs(p / 10 - 0.5) for p in range(1, 11)) / 10
    assert derive_samples(pairs)["ece_10_bin"].mean == pytest.approx(expected)
    crowded = [(0.90 + i / 1000, i % 2 == 0) for i in range(20)]  # all in [0.9, 0.92): one equal-width bin
    confidences = [p for p, _ in crowded]
    # each mass bin holds (0.90 + 2k/1000 right, 0.90 + (2k+1)/1000 wrong): |mean conf - 0.5|
    expected = sum(abs((confidences[2 * k] + confidences[2 * k + 1]) / 2 - 0.5) for k in range(10)) / 10
    assert derive_samples(crowded)["ece_10_bin"].mean == pytest.approx(expected)


def test_equal_mass_ece_is_averaged_over_train_trials() -> None:
    # HELM computes each trial's ECE on that trial's instances, then the mean over trials
    one = [(0.9, True), (0.8, False)]
    two = [(0.6, True), (0.3, True)]
    samples = [
        {"confidence": p, "correct": float(ok), "trial": float(trial)}
        for trial, pairs in enumerate((one, two))
        for p, ok in pairs
    ]
    derived = create_metric("calibration", {}).derive_samples({"calibration": sorted_samples(samples)}, CTX)
    ece = {s.name.name: s for s in derived}["ece_10_bin"]
    assert ece.count == 2
    each = [derive_samples(pairs)["ece_10_bin"].sum for pairs in (one, two)]
    assert ece.mean == pytest.approx(sum(each) / 2)


def test_no_samples_no_equal_mass_ece() -> None:
    assert create_metric("calibration", {}).derive_samples({}, CTX) == []
    assert create_metric("calibration", {}).derive_samples({"calibration": []}, CTX) == []


def test_equal_width_ece_of_five_instances_across_bins() -> None:
    # bin 9: 0.95 right, 0.92 right -> |2 - 1.87| = 0.13
    # bin 8: 0.85 wrong -> |0 - 0.85| = 0.85
    # bin 5: 0.55 right -> |1 - 0.55| = 0.45
    # bin 4: 0.45 wrong -> |0 - 0.45| = 0.45
    # ECE = sum_b n_b/N |acc_b - conf_b| = (0.13 + 0.85 + 0.45 + 0.45) / 5 = 0.376
    # (the same value as the equal-mass ECE above, by chance: here 4 width bins, there 5 mass bins)
    stats = merge_stats({}, [s for i, (p, ok) in enumerate(CASES) for s in case_stats(p, ok, i)])
    assert derive(stats) == pytest.approx({"ece_10_bin_equal_width": 0.376})


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
        {
            "max_prob": 0.731059,
            "_sample:calibration:confidence": 0.731059,
            "_sample:calibration:correct": 1.0,
            "_sample:calibration:trial": 0.0,
            "_ece_bin7_confidence": 0.731059,
            "_ece_bin7_correct": 1.0,
        }
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
        {
            "max_prob": 0.3,
            "_sample:calibration:confidence": 0.3,
            "_sample:calibration:correct": 0.0,
            "_sample:calibration:trial": 0.0,
            "_ece_bin3_confidence": 0.3,
            "_ece_bin3_correct": 0.0,
        }
    )


def test_separate_ties_count_as_partly_correct() -> None:
    # Two references tied, one correct: HELM's exact_match (the correctness ECE uses) is 1/2.
    inst = instance(["Rome", "Paris"], correct=[1])
    states = [echo_state(inst, [-1.0], 0, reference_index=0), echo_state(inst, [-1.0], 0, reference_index=1)]
    stats = create_metric("calibration", {}).evaluate_instance(states, context("multiple_choice_separate_original"))
    assert {s.name.name: s.sum for s in stats} == pytest.approx(
        {
            "max_prob": 0.5,
            "_sample:calibration:confidence": 0.5,
            "_sample:calibration:correct": 0.5,
            "_sample:calibration:trial": 0.0,
            "_ece_bin5_confidence": 0.5,
            "_ece_bin5_correct": 0.5,
        }
    )


def test_ece_of_no_instances_is_absent() -> None:
    assert ece_equal_width({}) is None
    assert create_metric("calibration", {}).derive({}, CTX) == []
