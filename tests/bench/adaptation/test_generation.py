"""The generation adapter: prompt text, request fields, train trials and fitting the context window."""

from __future__ import annotations

import pytest

from bench import PerturbationDescription, Request
from bench.adaptation import AdaptationError, AdapterSpec, sample_examples
from tests.bench.adaptation._helpers import instance, make_adapter

TRAIN = [instance("1+1", "2", split="train"), instance("2+2", "4", split="train")]


def test_prompt_with_two_examples_is_exact() -> None:
    adapter = make_adapter(instructions="Answer briefly.", max_train_instances=2, sample_train=False)
    (state,) = adapter.adapt([*TRAIN, instance("3+3", "6")])
    assert state.request.prompt == (
        "Answer briefly.\n\nInput: 1+1\nOutput: 2\n\nInput: 2+2\nOutput: 4\n\nInput: 3+3\nOutput:"
    )
    assert (state.num_train_instances, state.prompt_truncated, state.train_trial_index) == (2, False, 0)


def test_request_carries_the_spec_decoding_parameters() -> None:
    adapter = make_adapter(
        model="m/x", temperature=0.7, num_outputs=3, max_tokens=9, stop_sequences=("###",), random="r1"
    )
    (state,) = adapter.adapt([instance("q", "a")])
    assert state.request == Request(
        model="m/x",
        prompt="Input: q\nOutput:",
        temperature=0.7,
        num_completions=3,
        max_tokens=9,
        stop_sequences=("###",),
        random="r1",
    )
    assert state.reference_index is None and state.output_mapping is None


def test_output_prefix_keeps_a_trailing_newline_but_not_a_trailing_space() -> None:
    (state,) = make_adapter(max_train_instances=0, output_prefix="Answer:\n").adapt([instance("q", "a")])
    assert state.request.prompt == "Input: q\nAnswer:\n"


def test_example_without_correct_reference_shows_n_a() -> None:
    train = [instance("t", "x", correct=None, split="train")]
    (state,) = make_adapter(max_train_instances=1).adapt([*train, instance("q", "a")])
    assert state.request.prompt == "Input: t\nOutput: n/a\n\nInput: q\nOutput:"


def test_train_trials_repeat_the_eval_instances_with_their_own_draw() -> None:
    train = [instance(f"t{i}", f"o{i}", split="train") for i in range(8)]
    evals = [instance("q1", "a"), instance("q2", "b")]
    states = make_adapter(max_train_instances=2, num_train_trials=3).adapt([*evals[:1], *train, *evals[1:]])
    assert [(s.train_trial_index, s.instance.input) for s in states] == [
        (0, "q1"), (0, "q2"), (1, "q1"), (1, "q2"), (2, "q1"), (2, "q2"),
    ]  # fmt: skip
    for state in states:
        examples = sample_examples(train, 2, seed=state.train_trial_index)
        assert state.request.prompt.startswith(
            f"Input: {examples[0].input}\nOutput: {examples[0].references[0].output}"
        )
    # the same draw for both instances of a trial, another draw for another trial (fixed seeds, checked)
    assert states[0].request.prompt.split("Input: q")[0] == states[1].request.prompt.split("Input: q")[0]
    assert len({s.request.prompt for s in states}) == 6


def test_perturbed_instances_are_adapted_like_the_others() -> None:
    perturbed = instance("q", "a", id="id7", perturbation=PerturbationDescription(name="typos", robustness=True))
    (state,) = make_adapter(max_train_instances=0).adapt([perturbed])
    assert state.instance == perturbed and state.instance.id == "id7"


def test_examples_are_dropped_before_the_input_is_cut() -> None:
    evals = [instance("3+3", "6")]
    # word tokens: two examples 4 + 4, instructions 2, eval block 3 -> 13; one example 9; none 5
    for window, expected in ((14, 2), (10, 1), (9, 0)):
        adapter = make_adapter(window, instructions="Answer briefly.", max_train_instances=2, max_tokens=1)
        (state,) = adapter.adapt([*TRAIN, *evals])
        assert (state.num_train_instances, state.prompt_truncated) == (expected, False)


def test_input_is_cut_when_no_example_is_left_and_the_prompt_then_fits() -> None:
    adapter = make_adapter(7, max_train_instances=2, max_tokens=1)
    (state,) = adapter.adapt([*TRAIN, instance("a b c d e f g h", "x")])
    # 7 - 1 = 6 tokens: "Input:" " a" " b" " c" " d" "\nOutput:"
    assert state.request.prompt == "Input: a b c d\nOutput:"
    assert (state.num_train_instances, state.prompt_truncated) == (0, True)
    assert adapter.tokenizer.count_tokens(state.request.prompt) + 1 <= 7


def test_max_tokens_filling_the_context_window_is_refused() -> None:
    with pytest.raises(AdaptationError, match=r"max_tokens=10 leaves no room .* context window of 10 tokens"):
        make_adapter(10, max_tokens=10)


def test_no_eval_instances_gives_no_states() -> None:
    assert make_adapter().adapt(TRAIN) == []
    assert AdapterSpec().method == "generation"
