"""The deterministic `simple` model: every value below follows from the rules in its docstring."""

from __future__ import annotations

import hashlib

import pytest

from bench import ChatMessage, Request, RequestResult
from bench.models import get_deployment
from bench.models._simple import SimpleClient
from bench.tokenizers import get_tokenizer

MC_PROMPT = "Question: Which?\nA. one\nB. two\nC. three\nAnswer:"


def ask(**fields: object) -> RequestResult:
    client = SimpleClient(get_deployment("simple/model1"))
    result = client.make_request(Request(model="simple/model1", **fields))
    assert result.success
    assert result.request_time is not None and result.request_time >= 0
    return result


def test_repeats_the_last_word_up_to_max_tokens() -> None:
    (output,) = ask(prompt="The capital of France is Paris", max_tokens=3, temperature=0).completions
    # " Paris\n" repeated: " Paris" (6342), "\n" (198), " Paris" -- 3 tokens.
    assert output.text == " Paris\n Paris"
    assert [t.text for t in output.tokens] == [" Paris", "\n", " Paris"]
    assert [t.logprob for t in output.tokens] == [-0.6, -0.1, -0.6]  # -0.1 per character
    assert output.logprob == pytest.approx(-1.3)
    assert output.finish_reason == "length"


def test_stop_sequence_cuts_before_the_stop() -> None:
    (output,) = ask(prompt="Question: Is it Paris\nAnswer:", max_tokens=10, stop_sequences=("\n",)).completions
    # words ending with ':' are skipped, so the word is "Paris"
    assert output.text == " Paris"
    assert [t.text for t in output.tokens] == [" Paris"]
    assert output.finish_reason == "stop"


def test_stop_inside_a_token_keeps_text_before_it() -> None:
    (output,) = ask(prompt="x Paris", max_tokens=3, stop_sequences=("ris",)).completions
    assert output.text == " Pa"
    assert output.tokens == ()  # " Paris" straddles the stop, so no whole token lies before it
    assert output.finish_reason == "stop"


def test_top_logprobs_are_the_next_token_ids() -> None:
    (output,) = ask(prompt="Paris", max_tokens=1, top_k_per_token=3).completions
    # ids 6342 " Paris", 6343 " Media", 6344 "road": logprob -0.6, then -1 per rank
    assert output.tokens[0].top_logprobs == {" Paris": -0.6, " Media": -1.6, "road": -2.6}


def test_completions_differ_only_when_sampling() -> None:
    greedy = ask(prompt="a b c", max_tokens=1, temperature=0, num_completions=3).completions
    assert [o.text for o in greedy] == [" c", " c", " c"]
    sampled = ask(prompt="a b c", max_tokens=1, temperature=0.7, num_completions=4).completions
    # completion i takes the (i+1)-th word from the end, cycling
    assert [o.text for o in sampled] == [" c", " b", " a", " c"]
    again = ask(prompt="a b c", max_tokens=1, temperature=0.7, num_completions=4, random="other").completions
    assert again == sampled  # `random` changes nothing


def test_multiple_choice_answers_a_hashed_label() -> None:
    (output,) = ask(prompt=MC_PROMPT, max_tokens=5, top_k_per_token=5).completions
    letters = ["A", "B", "C"]
    first = int(hashlib.sha256(MC_PROMPT.encode()).hexdigest()[:8], 16) % 3
    assert output.text == f" {letters[first]}"
    assert output.finish_reason == "endoftext"
    (token,) = output.tokens
    assert token.logprob == -0.2
    ranked = [f" {letters[(first + j) % 3]}" for j in range(3)]
    assert token.top_logprobs == {ranked[0]: -0.2, ranked[1]: -1.2, ranked[2]: -2.2}  # only 3 labels exist


def test_multiple_choice_samples_move_along_the_labels() -> None:
    outputs = ask(prompt=MC_PROMPT, max_tokens=1, temperature=1.0, num_completions=3).completions
    assert sorted(o.text for o in outputs) == [" A", " B", " C"]


def test_echo_with_max_tokens_zero_returns_exactly_the_prompt_tokens() -> None:
    prompt = "Hello world <|endoftext|>"
    (output,) = ask(prompt=prompt, max_tokens=0, echo_prompt=True, top_k_per_token=2).completions
    expected = get_tokenizer("openai/r50k_base").tokenize(prompt)
    assert [t.text for t in output.tokens] == expected
    assert len(expected) == 9  # "Hello", " world", then " <|endoftext|>" as 7 ordinary tokens
    assert output.tokens[0].logprob == 0.0 and output.tokens[0].top_logprobs == {}
    assert output.tokens[1].logprob == -0.6
    assert output.tokens[1].top_logprobs == {" world": -0.6, " though": -1.6}  # ids 995, 996
    assert output.text == prompt


def test_echo_then_completion() -> None:
    (output,) = ask(prompt="Hello world", max_tokens=2, echo_prompt=True).completions
    assert output.text == "Hello world world\n"
    assert [t.text for t in output.tokens] == ["Hello", " world", " world", "\n"]
    assert output.logprob == pytest.approx(0.0 - 0.6 - 0.6 - 0.1)


def test_max_tokens_zero_without_echo_is_empty() -> None:
    (output,) = ask(prompt="Hello world", max_tokens=0).completions
    assert output.text == "" and output.tokens == () and output.logprob == 0.0


def test_chat_answers_the_last_user_message() -> None:
    messages = (
        ChatMessage(role="system", content="Be brief. Rome"),
        ChatMessage(role="user", content="say Rome"),
        ChatMessage(role="assistant", content="Rome"),
        ChatMessage(role="user", content="now Oslo"),
    )
    (output,) = ask(messages=messages, max_tokens=4, stop_sequences=("\n",)).completions
    assert output.text == " Oslo"


def test_empty_prompt_uses_a_fixed_word() -> None:
    (output,) = ask(prompt="", max_tokens=1).completions
    assert output.text == " simple"
