"""Prompt layout, fitting into a context window, and counting conditioning tokens."""

from __future__ import annotations

from bench.adaptation import Prompt, count_leading_tokens, fit_prompt
from tests.bench.adaptation._helpers import ByteTokenizer
from tests.fakes import WordTokenizer


def _prompt(instructions: str = "", examples: tuple[str, ...] = (), text: str = "q") -> Prompt:
    return Prompt(
        global_prefix="",
        instructions=instructions,
        instance_prefix="\n",
        examples=examples,
        eval_prefix="Input: ",
        eval_input=text,
        eval_suffix="\nOutput:",
    )


def test_layout_puts_a_blank_line_after_instructions_and_between_examples() -> None:
    prompt = _prompt("Be brief.", ("Input: a\nOutput: b\n",))
    assert prompt.text == "Be brief.\n\nInput: a\nOutput: b\n\nInput: q\nOutput:"


def test_layout_without_instructions_starts_with_the_first_block() -> None:
    prompt = Prompt(
        global_prefix="<s>",
        instructions="",
        instance_prefix="\n",
        examples=(),
        eval_prefix="Q: ",
        eval_input="x",
        eval_suffix="\nA:",
    )
    assert prompt.text == "<s>Q: x\nA:"


def test_fit_keeps_everything_when_it_fits() -> None:
    # "Input:" " a" "\nOutput:" " b" "\n\nInput:" " q" "\nOutput:" = 7 tokens
    fitted = fit_prompt(_prompt(examples=("Input: a\nOutput: b\n",)), WordTokenizer(), 7)
    assert (fitted.num_train_instances, fitted.truncated) == (1, False)


def test_fit_drops_examples_from_the_end_first() -> None:
    examples = ("Input: a\nOutput: b\n", "Input: c\nOutput: d\n")
    # two examples: 4 + 4 + 3 = 11 tokens; one: 4 + 3 = 7; none: "Input:" " q" "\nOutput:" = 3
    fitted = fit_prompt(_prompt(examples=examples), WordTokenizer(), 10)
    assert fitted.num_train_instances == 1
    assert fitted.text == "Input: a\nOutput: b\n\nInput: q\nOutput:"
    assert not fitted.truncated


def test_fit_cuts_the_end_of_the_input_but_keeps_the_output_prefix() -> None:
    # input "a b c d e f g h" is 8 tokens; around it "Input:" and "\nOutput:": 10 in all; 6 allowed -> 4 words
    fitted = fit_prompt(_prompt(examples=("Input: x\nOutput: y\n",), text="a b c d e f g h"), WordTokenizer(), 6)
    assert fitted.text == "Input: a b c d\nOutput:"
    assert (fitted.num_train_instances, fitted.truncated) == (0, True)
    assert WordTokenizer().count_tokens(fitted.text) == 6


def test_fit_can_remove_the_whole_input() -> None:
    # with an empty input: "Input:" " \nOutput:" = 2 tokens, exactly the limit
    fitted = fit_prompt(_prompt(text="a b c"), WordTokenizer(), 2)
    assert fitted.text == "Input: \nOutput:"
    assert fitted.truncated


def test_fit_falls_back_to_cutting_from_the_right_when_even_no_input_is_too_long() -> None:
    # instructions alone are 6 tokens; 4 allowed: the first 4 tokens of the whole prompt remain
    fitted = fit_prompt(_prompt(instructions="one two three four five six"), WordTokenizer(), 4)
    assert fitted.text == "one two three four"
    assert fitted.truncated


def test_leading_tokens_give_the_space_of_the_prefix_to_the_continuation() -> None:
    tokenizer = WordTokenizer()
    text = "Input: q\nOutput: Paris"
    prefix = "Input: q\nOutput: "
    # alone, the prefix is "Input:" " q" "\nOutput:" " " (4); in the text " Paris" is one token: 3 condition
    assert tokenizer.count_tokens(prefix) == 4
    count = count_leading_tokens(tokenizer, text, len(prefix))
    assert count == 3
    assert tokenizer.decode(tokenizer.encode(text)[count:]) == " Paris"


def test_leading_tokens_at_a_clean_boundary_and_at_the_ends() -> None:
    tokenizer = WordTokenizer()
    assert count_leading_tokens(tokenizer, "a b c", len("a b")) == 2
    assert count_leading_tokens(tokenizer, "a b c", 0) == 0
    assert count_leading_tokens(tokenizer, "a b c", 5) == 3


def test_leading_tokens_never_split_a_character() -> None:
    # "é!" is bytes 195 169 33; the prefix "é" ends after byte 2
    assert count_leading_tokens(ByteTokenizer(), "é!", 1) == 2
    # a prefix that ends nowhere on a byte boundary of the text still yields whole tokens only: "ab" of "abé"
    assert count_leading_tokens(ByteTokenizer(), "abé", 2) == 2
