"""The multiple_choice_joint adapter: lettered choices, the examples' letters, the letter mapping."""

from __future__ import annotations

import pytest

from bench.adaptation import AdaptationError
from tests.bench.adaptation._helpers import instance, make_adapter

TRAIN = instance("Sky color?", "green", "blue", correct=1, split="train")
EVAL = instance("Grass color?", "green", "red", "blue", correct=0)


def test_prompt_letters_choices_and_shows_the_example_answer_letter() -> None:
    adapter = make_adapter(method="multiple_choice_joint", input_prefix="Question: ", max_train_instances=1)
    (state,) = adapter.adapt([TRAIN, EVAL])
    assert state.request.prompt == (
        "Question: Sky color?\nA. green\nB. blue\nOutput: B\n\n"
        "Question: Grass color?\nA. green\nB. red\nC. blue\nOutput:"
    )
    assert state.output_mapping == {"A": "green", "B": "red", "C": "blue"}
    assert state.num_train_instances == 1


def test_request_asks_for_enough_top_logprobs_for_every_letter() -> None:
    adapter = make_adapter(method="multiple_choice_joint", max_tokens=1, max_train_instances=0, temperature=0.0)
    (state,) = adapter.adapt([EVAL])
    assert (state.request.top_k_per_token, state.request.max_tokens, state.request.temperature) == (5, 1, 0.0)
    many = instance("pick", *[f"o{i}" for i in range(7)])
    (state,) = adapter.adapt([many])
    assert state.request.top_k_per_token == 7
    assert list(state.output_mapping or {}) == ["A", "B", "C", "D", "E", "F", "G"]


def test_other_reference_prefixes_increment_their_letter() -> None:
    adapter = make_adapter(method="multiple_choice_joint", reference_prefix=" (A) ", max_train_instances=0)
    (state,) = adapter.adapt([instance("q", "x", "y")])
    assert state.request.prompt == "Input: q\n (A) x\n (B) y\nOutput:"
    assert state.output_mapping == {"A": "x", "B": "y"}


def test_reference_prefix_without_a_letter_is_refused() -> None:
    with pytest.raises(AdaptationError, match=r"reference_prefix '\. ' has no letter"):
        make_adapter(method="multiple_choice_joint", reference_prefix=". ")


def test_choices_stay_whole_when_the_input_is_cut() -> None:
    # budget 10 - 1 = 9: "Input:" " a" " b" "\nA." " x" "\nB." " y" "\nOutput:" is 8 tokens, a third word does not fit
    adapter = make_adapter(10, method="multiple_choice_joint", max_tokens=1, max_train_instances=0)
    (state,) = adapter.adapt([instance("a b c d e f", "x", "y")])
    assert state.request.prompt == "Input: a b c\nA. x\nB. y\nOutput:"
    assert state.prompt_truncated
