"""synthetic_reasoning: answers checked with regular expressions, independently of the generator."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from bench import CORRECT_TAG, TEST_SPLIT, TRAIN_SPLIT, VALID_SPLIT, Instance
from bench.scenarios import SyntheticReasoningScenario
from bench.scenarios._synthetic_reasoning import canonical, matches

SYMBOLS = ("X", "Y", "Z")


def rule_regex(rule: str) -> re.Pattern[str]:
    """A regex for the results of `rule`: a symbol is one or two words, the same words each time it recurs."""
    groups: dict[str, int] = {}
    parts = []
    for token in rule.split(" "):
        if token in SYMBOLS:
            if token in groups:
                parts.append(f"(?P={token})")
            else:
                groups[token] = len(groups)
                parts.append(rf"(?P<{token}>[a-z]+(?: [a-z]+)?)")
        else:
            parts.append(re.escape(token))
    return re.compile("^" + " ".join(parts) + "$")


def test_rule_regex_by_hand() -> None:
    assert rule_regex("X + Y = Y + X").match("apple + peach kiwi = peach kiwi + apple")
    assert not rule_regex("X + Y = Y + X").match("apple + peach = kiwi + apple")
    # The generator's matcher agrees on these hand-made cases.
    assert matches(words("X + Y = Y + X"), words("apple + peach kiwi = peach kiwi + apple"))
    assert not matches(words("X + Y = Y + X"), words("apple + peach = kiwi + apple"))
    assert canonical(words("Z + X = Z")) == words("X + Y = X")


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def instances(mode: str) -> list[Instance]:
    return SyntheticReasoningScenario(mode).get_instances("unused")  # type: ignore[arg-type]


def test_pattern_match_exactly_one_rule_matches() -> None:
    for instance in instances("pattern_match"):
        *rule_lines, result_line = instance.input.split("\n")
        rules = [line.removeprefix("Rule: ") for line in rule_lines]
        result = result_line.removeprefix("Result: ")
        assert len(rules) == 4 == len(set(rules))
        matching = [rule for rule in rules if rule_regex(rule).match(result)]
        assert [(r.output, r.tags) for r in instance.references] == [(matching[0], (CORRECT_TAG,))]
        assert len(matching) == 1, instance.input


def test_variable_substitution_result() -> None:
    for instance in instances("variable_substitution"):
        rule_line, substitution_line = instance.input.split("\n")
        words = dict(re.findall(r'([XYZ]) by "([a-z ]+)"', substitution_line))
        expected = " ".join(words.get(token, token) for token in rule_line.removeprefix("Rule: ").split(" "))
        assert instance.references[0].output == expected


def test_induction_rule_explains_both_results_and_is_named_in_order() -> None:
    for instance in instances("induction"):
        first, second = (line.split(": ", 1)[1] for line in instance.input.split("\n"))
        rule = instance.references[0].output
        assert rule_regex(rule).match(first) and rule_regex(rule).match(second)
        symbols = [t for t in rule.split(" ") if t in SYMBOLS]
        first_seen = list(dict.fromkeys(symbols))
        assert first_seen == list(SYMBOLS[: len(first_seen)])
        assert not any(a in SYMBOLS and b in SYMBOLS for a, b in zip(rule.split(" "), rule.split(" ")[1:]))


def test_example_of_variable_substitution() -> None:
    instance = instances("variable_substitution")[0]
    assert instance.input.startswith("Rule: ")
    assert "\nSubstitutions: X by " in instance.input


@pytest.mark.parametrize("mode", ["pattern_match", "variable_substitution", "induction"])
def test_counts_and_determinism(mode: str) -> None:
    generated = instances(mode)
    assert Counter(i.split for i in generated) == {TRAIN_SPLIT: 100, VALID_SPLIT: 100, TEST_SPLIT: 500}
    assert [i.split for i in generated[:101]] == [TRAIN_SPLIT] * 100 + [VALID_SPLIT]
    assert len({i.input for i in generated}) == len(generated)
    assert generated == instances(mode)


def test_bad_mode_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="choose one of: pattern_match, variable_substitution, induction"):
        SyntheticReasoningScenario("deduction")  # type: ignore[arg-type]
