"""reference_match: max over correct references, multiple choice via the predicted choice, failures left out."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bench import GeneratedOutput, MetricName, Stat
from bench.metrics import create_metric, exact_match, quasi_exact_match
from tests.bench.metrics.builders import FAILED, context, echo_state, generation_state, instance, joint_state, success

ALL = ["exact_match", "quasi_exact_match", "f1_score", "bleu_1"]


def scores(stats: list[Stat]) -> dict[str, float]:
    assert all(s.count == 1 and s.name == MetricName(name=s.name.name) for s in stats)
    return {s.name.name: s.sum for s in stats}


def test_generation_takes_the_best_correct_reference() -> None:
    # Correct references "Paris" and "the city of Paris"; the wrong one "Rome" is never compared.
    inst = instance(["Rome", "Paris", "the city of Paris"], correct=[1, 2])
    metric = create_metric("reference_match", {"names": ALL})
    stats = metric.evaluate_instance([generation_state(inst, " City of Paris")], context())
    # exact: no reference equals "City of Paris" -> 0
    # quasi: normalize("the city of Paris") = "city of paris" = normalize("City of Paris") -> 1
    # f1: vs "Paris": P = 1/3, R = 1 -> 0.5; vs "city of paris": 1 -> max 1
    # bleu_1: vs "the city of Paris" (4 tokens) pred "City of Paris" (3): matches of, Paris (case kept) -> 2/3,
    #         BP = exp(1 - 4/3); vs "Paris": 1/3, BP 1 -> max(0.477688, 0.333333)
    assert scores(stats) == pytest.approx(
        {"exact_match": 0.0, "quasi_exact_match": 1.0, "f1_score": 1.0, "bleu_1": 2 / 3 * 2.718281828459045 ** (-1 / 3)}
    )


def test_joint_compares_the_chosen_reference_output() -> None:
    inst = instance(["Rome", "Paris"], correct=[1])
    metric = create_metric("reference_match", {"names": ["exact_match"]})
    right = joint_state(inst, " B", {" A": 0.4, " B": 0.6})
    wrong = joint_state(inst, "A", {" A": 0.4, " B": 0.6})
    unparseable = joint_state(inst, "Paris", {" A": 0.4, " B": 0.6})  # not a letter: no valid choice -> 0
    bracketed = joint_state(inst, "(B)", {" A": 0.4, " B": 0.6})  # HELM matches the whole stripped text: 0
    ctx = context("multiple_choice_joint")
    cases = (right, wrong, unparseable, bracketed)
    assert [scores(metric.evaluate_instance([s], ctx))["exact_match"] for s in cases] == [1, 0, 0, 0]


def test_separate_compares_the_argmax_reference() -> None:
    inst = instance(["Rome", "Paris"], correct=[1])
    states = [echo_state(inst, [-2.0], 0, reference_index=0), echo_state(inst, [-1.0], 0, reference_index=1)]
    stats = create_metric("reference_match", {"names": ["exact_match", "quasi_exact_match"]}).evaluate_instance(
        states, context("multiple_choice_separate_original")
    )
    assert scores(stats) == {"exact_match": 1.0, "quasi_exact_match": 1.0}


def test_separate_ties_share_the_exact_match_credit() -> None:
    inst = instance(["Rome", "Paris", "Oslo", "Bern"], correct=[1])
    states = [echo_state(inst, [-1.0], 0, reference_index=i) for i in range(4)]
    stats = create_metric("reference_match", {"names": ["exact_match"]}).evaluate_instance(
        states, context("multiple_choice_separate_original")
    )
    assert scores(stats) == {"exact_match": 0.25}


def helm_reference_metrics(golds: list[str], completions: list[GeneratedOutput], num_outputs: int) -> dict[str, float]:
    """HELM 0.5.16 compute_reference_metrics for exact_match and quasi_exact_match, re-implemented from its source."""
    ranked = sorted(completions, key=lambda x: -x.logprob)
    preds = [c.text.strip() for c in ranked]
    result: dict[str, float] = {}
    for name, fn in (("exact_match", exact_match), ("quasi_exact_match", quasi_exact_match)):
        result[name] = max(fn(gold, preds[0]) for gold in golds)
        if num_outputs != 1:
            result[f"{name}@{num_outputs}"] = max(fn(gold, pred) for gold in golds for pred in preds)
    return result


@pytest.mark.parametrize(
    "texts_and_logprobs",
    [
        [("Rome", -1.0), ("paris", -2.0), ("Paris", -3.0), ("Oslo", -0.5), ("x", -4.0)],  # best is wrong, @5 right
        [("Paris", -0.1), ("Rome", -0.1), ("Oslo", -2.0), ("Bern", -2.0), ("Rome", -9.0)],  # tie keeps order
        [("the Paris", -1.0), ("Rome", -1.5), ("Oslo", -2.0), ("Bern", -2.5), ("Lima", -3.0)],  # quasi only
    ],
)
def test_several_completions_score_the_most_likely_and_report_at_k(
    texts_and_logprobs: list[tuple[str, float]],
) -> None:
    inst = instance(["Rome", "Paris"], correct=[1])
    completions = [GeneratedOutput(text=t, logprob=lp) for t, lp in texts_and_logprobs]
    state = generation_state(inst, "", result=success(*completions))
    ctx = context()
    ctx = replace(ctx, adapter_spec=ctx.adapter_spec.model_copy(update={"num_outputs": 5}))
    stats = create_metric("reference_match", {"names": ["exact_match", "quasi_exact_match"]}).evaluate_instance(
        [state], ctx
    )
    assert scores(stats) == helm_reference_metrics(["Paris"], completions, 5)


def test_one_output_has_no_at_k_figure() -> None:
    stats = create_metric("reference_match", {"names": ["exact_match"]}).evaluate_instance(
        [generation_state(instance(["x"], correct=[0]), "x")], context()
    )
    assert [s.name.name for s in stats] == ["exact_match"]


def test_failed_request_is_left_out() -> None:
    inst = instance(["Paris"], correct=[0])
    metric = create_metric("reference_match", {"names": ["exact_match"]})
    assert metric.evaluate_instance([generation_state(inst, "", result=FAILED)], context()) == []
    separate = [echo_state(inst, [-1.0], 0, reference_index=0).model_copy(update={"result": FAILED})]
    assert metric.evaluate_instance(separate, context("multiple_choice_separate_original")) == []


def test_instance_without_correct_reference_gets_no_stats() -> None:
    metric = create_metric("reference_match", {"names": ["exact_match"]})
    assert metric.evaluate_instance([generation_state(instance(["x"], correct=[]), "x")], context()) == []


def test_unknown_or_missing_names_are_rejected_with_the_valid_names() -> None:
    with pytest.raises(ValueError, match=r"unknown names \['exact'\]; valid names: exact_match, quasi_exact_match"):
        create_metric("reference_match", {"names": ["exact_match", "exact"]})
    with pytest.raises(ValueError, match="no names given"):
        create_metric("reference_match", {"names": []})


def test_a_single_name_string_is_accepted() -> None:
    metric = create_metric("reference_match", {"names": "exact_match"})
    stats = metric.evaluate_instance([generation_state(instance(["x"], correct=[0]), "x")], context())
    assert scores(stats) == {"exact_match": 1.0}
