"""lpm: the references are exactly what the rules give, found again by an independent forward chainer."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from bench import CORRECT_TAG, TEST_SPLIT, TRAIN_SPLIT, VALID_SPLIT, Instance
from bench.scenarios import LPMScenario
from bench.scenarios._lpm import ATTRIBUTES, SUBJECTS

RULE = re.compile(r"^If (?:an? )?(\w+) is (.+), then (?:the )?(\w+) is (\w+)\.$")
FACT = re.compile(r"^Fact: (?:The )?(\w+) is (\w+) and (\w+)\.$")
QUESTION = re.compile(r"^Question: What else is (?:the )?(\w+)\?$")

BASE = {word: base for base, synonyms in ATTRIBUTES.items() for word in (base, *synonyms)}
CATEGORY = {subject: category for category, subjects in SUBJECTS.items() for subject in subjects}


def follows(instance: Instance) -> tuple[str, set[str], list[str], set[str]]:
    """Read the instance as a person would: (subject, fact attributes, rule subjects, derived attributes)."""
    lines = instance.input.split("\n")
    assert lines[0] == "Rules:"
    fact = FACT.match(lines[-2])
    question = QUESTION.match(lines[-1])
    assert fact and question, lines[-2:]
    subject = fact.group(1)
    assert question.group(1) == subject
    rules = []
    for line in lines[1:-2]:
        match = RULE.match(line)
        assert match, line
        who, condition, who_again, consequent = match.groups()
        assert who == who_again
        conjunction = "or" if " or " in condition else "and"
        rules.append((who, condition.split(f" {conjunction} "), conjunction, consequent))
    known = {BASE[fact.group(2)], BASE[fact.group(3)]}
    fact_attributes = set(known)
    changed = True
    while changed:  # forward chaining until nothing new follows
        changed = False
        for who, conditions, conjunction, consequent in rules:
            if who not in (subject, CATEGORY[subject]) or consequent in known:
                continue
            held = [c in known for c in conditions]
            if all(held) if conjunction == "and" else any(held):
                known.add(consequent)
                changed = True
    return subject, fact_attributes, [r[0] for r in rules], known - fact_attributes


@pytest.mark.parametrize(("difficulty", "steps", "num_rules"), [("easy", 1, 3), ("medium", 1, 5), ("hard", 2, 7)])
def test_references_are_what_follows(difficulty: str, steps: int, num_rules: int) -> None:
    for instance in LPMScenario(difficulty).get_instances("unused"):  # type: ignore[arg-type]
        _, _, rule_subjects, derived = follows(instance)
        assert len(rule_subjects) == num_rules
        assert len(derived) == steps
        for reference in instance.references:
            assert reference.tags == (CORRECT_TAG,)
            assert set(reference.output.split(" and ")) == derived


def test_hard_accepts_both_orders_and_uses_synonyms() -> None:
    instances = LPMScenario("hard").get_instances("unused")
    outputs = [r.output for r in instances[0].references]
    first, second = outputs[0].split(" and ")
    assert outputs == [f"{first} and {second}", f"{second} and {first}"]
    # The fact states synonyms, never the rules' own words.
    facts = [FACT.match(i.input.split("\n")[-2]) for i in instances]
    assert all(m and m.group(2) not in ATTRIBUTES and m.group(3) not in ATTRIBUTES for m in facts)


def test_easy_rules_name_the_subject_and_medium_rules_name_categories() -> None:
    easy = LPMScenario("easy", num_valid_instances=0, num_test_instances=0).get_instances("unused")
    for instance in easy:
        subject, _, rule_subjects, _ = follows(instance)
        assert set(rule_subjects) == {subject}
    medium = LPMScenario("medium", num_valid_instances=0, num_test_instances=0).get_instances("unused")
    categories = Counter(who for i in medium for who in follows(i)[2] if who in SUBJECTS)
    assert set(categories) == set(SUBJECTS)  # including rules about another category (distractors)


def test_example_of_an_easy_instance() -> None:
    instance = LPMScenario("easy").get_instances("unused")[0]
    assert instance.input.startswith("Rules:\nIf a")
    assert "\nFact: " in instance.input
    assert len(instance.references) == 1


def test_counts_per_split_and_determinism() -> None:
    instances = LPMScenario("medium", num_train_instances=3, num_valid_instances=4, num_test_instances=5).get_instances(
        "unused"
    )
    assert [i.split for i in instances] == [TRAIN_SPLIT] * 3 + [VALID_SPLIT] * 4 + [TEST_SPLIT] * 5
    assert len({i.input for i in instances}) == 12
    assert LPMScenario("medium").get_instances("a") == LPMScenario("medium").get_instances("b")
    assert LPMScenario().get_instances("a")[0].input != LPMScenario("hard").get_instances("a")[0].input


def test_default_sizes() -> None:
    counts = Counter(i.split for i in LPMScenario().get_instances("unused"))
    assert counts == {TRAIN_SPLIT: 100, VALID_SPLIT: 100, TEST_SPLIT: 500}


def test_vocabulary_words_are_unambiguous() -> None:
    words = [w for base, synonyms in ATTRIBUTES.items() for w in (base, *synonyms)]
    assert len(words) == len(set(words))


def test_bad_difficulty_lists_the_choices() -> None:
    with pytest.raises(ValueError, match="difficulty 'extreme' is not valid; choose one of: easy, medium, hard"):
        LPMScenario("extreme")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="num_valid_instances must be at least 0"):
        LPMScenario(num_valid_instances=-2)
