"""The multiple_choice_separate adapters: one echo request per reference (and per calibration)."""

from __future__ import annotations

from tests.bench.adaptation._helpers import instance, make_adapter
from tests.fakes import WordTokenizer

EVAL = instance("Capital of France?", "Paris", "Rome", correct=0)
TRAIN = instance("Capital of Italy?", "Rome", split="train")


def _scored_text(prompt: str, num_conditioning_tokens: int) -> str:
    tokenizer = WordTokenizer()
    return tokenizer.decode(tokenizer.encode(prompt)[num_conditioning_tokens:])


def test_original_scores_each_reference_after_the_zero_shot_prompt() -> None:
    adapter = make_adapter(method="multiple_choice_separate_original", instructions="Geography.", max_tokens=50)
    states = adapter.adapt([TRAIN, EVAL])
    assert [s.request.prompt for s in states] == [
        "Geography.\n\nInput: Capital of France?\nOutput: Paris",
        "Geography.\n\nInput: Capital of France?\nOutput: Rome",
    ]
    assert [(s.reference_index, s.request_mode, s.num_train_instances) for s in states] == [
        (0, "original", 0),
        (1, "original", 0),
    ]
    # "Geography." "\n\nInput:" " Capital" " of" " France?" "\nOutput:" condition; " Paris" is scored
    assert states[0].num_conditioning_tokens == 6
    assert [_scored_text(s.request.prompt, s.num_conditioning_tokens) for s in states] == [" Paris", " Rome"]
    request = states[0].request
    assert (request.echo_prompt, request.max_tokens, request.temperature, request.num_completions) == (True, 0, 0, 1)


def test_calibrated_adds_a_calibration_request_after_each_original() -> None:
    adapter = make_adapter(method="multiple_choice_separate_calibrated", output_prefix="\nAnswer: ")
    states = adapter.adapt([EVAL])
    assert [(s.reference_index, s.request_mode) for s in states] == [
        (0, "original"),
        (0, "calibration"),
        (1, "original"),
        (1, "calibration"),
    ]
    # HELM's calibration prompt: the original one with "Answer:" as the input
    assert states[1].request.prompt == "Input: Answer:\n\nAnswer: Paris"
    assert states[1].num_conditioning_tokens == 3  # "Input:" " Answer:" "\n\nAnswer:"
    assert states[0].request.prompt == "Input: Capital of France?\n\nAnswer: Paris"
    # original and calibration score the same tokens
    assert {_scored_text(s.request.prompt, s.num_conditioning_tokens) for s in states[:2]} == {" Paris"}
    assert states[1].request.echo_prompt and states[1].request.max_tokens == 0


def test_a_prefix_ending_in_a_newline_scores_the_reference_with_its_newline() -> None:
    adapter = make_adapter(method="multiple_choice_separate_original", output_prefix="Answer:\n")
    states = adapter.adapt([EVAL])
    assert _scored_text(states[1].request.prompt, states[1].num_conditioning_tokens) == "\nRome"


def test_trials_repeat_the_requests() -> None:
    adapter = make_adapter(method="multiple_choice_separate_calibrated", num_train_trials=3)
    states = adapter.adapt([TRAIN, EVAL])
    assert len(states) == 3 * 4
    assert [s.train_trial_index for s in states] == [0] * 4 + [1] * 4 + [2] * 4


def test_a_long_input_is_cut_but_the_reference_stays_scored() -> None:
    # context 8, nothing generated: "Input:" + k words + "\nOutput:" + " Paris" = k + 3 <= 8, so k = 5 of 7
    adapter = make_adapter(8, method="multiple_choice_separate_original")
    states = adapter.adapt([instance("a b c d e f g", "Paris", "Rome")])
    assert states[0].request.prompt == "Input: a b c d e\nOutput: Paris"
    assert states[0].prompt_truncated
    assert _scored_text(states[0].request.prompt, states[0].num_conditioning_tokens) == " Paris"


def test_helms_separate_framing_gives_input_space_reference() -> None:
    # HELM's get_multiple_choice_separate_adapter_spec: no framing, output prefix " "; calibration input "Answer:".
    from bench.run_specs import multiple_choice_adapter_spec

    spec = multiple_choice_adapter_spec("multiple_choice_separate_calibrated", instructions="ignored")
    adapter = make_adapter(**spec.model_dump(exclude={"model"}))
    states = adapter.adapt([TRAIN, EVAL])
    assert [s.request.prompt for s in states] == [
        "Capital of France? Paris",
        "Answer: Paris",
        "Capital of France? Rome",
        "Answer: Rome",
    ]
