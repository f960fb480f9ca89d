"""`lpm`: rule-based reasoning in natural language (HELM's synthetic_reasoning_natural, once called lpm).

Each instance gives a few rules, a fact about a subject, and asks what else follows:

    Rules:
    If a cow is big and red, then the cow is smart.
    If a cow is heavy or shiny, then the cow is quiet.
    Fact: The cow is big and red.
    Question: What else is the cow?
    Answer: smart

Difficulty adds what a reader must see through:
- easy: rules name the subject itself; one rule applies; two distractor rules.
- medium: rules may name the subject's category ("If an animal is ..., then the animal is ..."), including a
  rule about another category whose conditions hold (it must not be applied); four distractors.
- hard: as medium, and the fact uses synonyms ("The cow is huge and crimson."), two rules apply one after
  the other (the second needs what the first gives), five distractors. The answer names both attributes,
  joined by "and", in either order (both orders are correct references).

Generation guarantees the answer: the applying rules are built first, and every distractor is built so that
it cannot apply to what is known (the fact plus everything derived).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import ClassVar, Literal

from bench._instance import CORRECT_TAG, Instance, Reference
from bench.scenarios._generation import GeneratedScenario, check_choice, split_counts
from bench.scenarios._scenario import scenario

LPMDifficulty = Literal["easy", "medium", "hard"]
DIFFICULTIES: tuple[str, ...] = ("easy", "medium", "hard")
Conjunction = Literal["and", "or"]

SUBJECTS: dict[str, tuple[str, ...]] = {
    "person": ("Anna", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Henry"),
    "animal": ("cow", "dog", "cat", "horse", "rabbit", "bear", "lion", "mouse", "owl", "sheep"),
    "plant": ("rose", "tulip", "oak", "fern", "cactus", "daisy", "maple", "orchid"),
}
"""Subjects by category; a person is named without an article."""

ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "big": ("huge", "large", "giant"),
    "red": ("crimson", "scarlet"),
    "blue": ("azure", "navy"),
    "green": ("emerald", "jade"),
    "smart": ("clever", "bright", "wise"),
    "happy": ("cheerful", "glad", "joyful"),
    "fast": ("quick", "swift", "rapid"),
    "strong": ("powerful", "mighty"),
    "old": ("ancient", "elderly"),
    "hot": ("fiery", "scorching"),
    "kind": ("nice", "gentle"),
    "soft": ("fluffy", "tender"),
    "round": ("circular", "spherical"),
    "quiet": ("silent", "hushed"),
    "clean": ("tidy", "spotless"),
    "heavy": ("weighty", "hefty"),
    "shiny": ("glossy", "gleaming"),
}
"""Attributes the rules use, each with synonyms the fact may use at the hard level. No antonyms, so that a
fact never says something contradictory like "big and small"."""


@dataclass(frozen=True)
class Level:
    """What one difficulty asks of the reader."""

    distractors: int
    category_rules: bool
    synonyms: bool
    steps: int


LEVELS: dict[str, Level] = {
    "easy": Level(distractors=2, category_rules=False, synonyms=False, steps=1),
    "medium": Level(distractors=4, category_rules=True, synonyms=False, steps=1),
    "hard": Level(distractors=5, category_rules=True, synonyms=True, steps=2),
}


@dataclass(frozen=True)
class Rule:
    """`If <subject> is <conditions joined by conjunction>, then <subject> is <consequent>.`"""

    category: str
    subject: str | None  # None: the rule is about the whole category
    conditions: tuple[str, ...]
    conjunction: Conjunction
    consequent: str

    def applies(self, category: str, subject: str, known: set[str]) -> bool:
        """Whether the rule fires for `subject` of `category` that has the attributes `known`."""
        if self.category != category or self.subject not in (None, subject):
            return False
        held = [c in known for c in self.conditions]
        return all(held) if self.conjunction == "and" else any(held)

    def render(self) -> str:
        """The rule as an English sentence."""
        condition = f" {self.conjunction} ".join(self.conditions)
        some, this = _noun(self.category, self.subject, "a"), _noun(self.category, self.subject, "the")
        return f"If {some} is {condition}, then {this} is {self.consequent}."


@dataclass(frozen=True)
class Problem:
    """One generated problem: what the model reads and what follows."""

    category: str
    subject: str
    fact: tuple[str, ...]  # attribute names (rules' words)
    fact_words: tuple[str, ...]  # how the fact states them (synonyms at the hard level)
    rules: tuple[Rule, ...]
    derived: tuple[str, ...]  # attributes that follow, in derivation order


def _noun(category: str, subject: str | None, article: Literal["a", "the"]) -> str:
    """'a cow', 'the cow', 'an animal', 'the person', or a person's name."""
    if category == "person" and subject is not None:
        return subject
    noun = subject if subject is not None else category
    if article == "a" and noun[0] in "aeiou":
        return f"an {noun}"
    return f"{article} {noun}"


def generate_problem(rng: random.Random, level: Level) -> Problem:
    """A random problem at `level` whose derived attributes are exactly what the rules give."""
    category = rng.choice(sorted(SUBJECTS))
    subject = rng.choice(SUBJECTS[category])
    pool = sorted(ATTRIBUTES)
    rng.shuffle(pool)
    fact, fresh = tuple(pool[:2]), pool[2:]
    applying = _applying_rules(rng, level, category, subject, fact, fresh)
    derived = tuple(rule.consequent for rule in applying)
    known = set(fact) | set(derived)
    unknown = [a for a in pool if a not in known]
    distractors = [
        _distractor(rng, level, category, subject, fact, known, unknown, other_category=i == 0)
        for i in range(level.distractors)
    ]
    rules = [*applying, *distractors]
    rng.shuffle(rules)
    if level.synonyms:
        fact_words = tuple(rng.choice(ATTRIBUTES[a]) for a in fact)
    else:
        fact_words = fact
    return Problem(category, subject, fact, fact_words, tuple(rules), derived)


def _applying_rules(
    rng: random.Random, level: Level, category: str, subject: str, fact: tuple[str, ...], fresh: list[str]
) -> list[Rule]:
    """The chain of `level.steps` rules that fire, each needing what the previous one gives.

    `fresh` supplies attributes not in the fact; it is consumed so that consequents are all new.
    """
    rules: list[Rule] = []
    # An "or" rule may mention one attribute the subject does not have; it must never be derived.
    decoy = fresh.pop()
    for step in range(level.steps):
        consequent = fresh.pop()
        # The first rule is about the category (medium and hard), so that seeing through it is required.
        about_category = level.category_rules and (step == 0 or rng.random() < 0.5)
        rule_subject = None if about_category else subject
        options: list[tuple[tuple[str, ...], Conjunction]]
        if step == 0:
            options = [(fact, "and"), ((rng.choice(fact), decoy), "or")]
        else:
            previous = rules[-1].consequent
            options = [((previous,), "and"), ((previous, rng.choice(fact)), "and"), ((previous, decoy), "or")]
        conditions, conjunction = rng.choice(options)
        conditions = tuple(rng.sample(conditions, len(conditions)))
        rules.append(Rule(category, rule_subject, conditions, conjunction, consequent))
    fresh.append(decoy)  # the decoy stays unknown, so distractors may use it too
    return rules


def _distractor(
    rng: random.Random,
    level: Level,
    category: str,
    subject: str,
    fact: tuple[str, ...],
    known: set[str],
    unknown: list[str],
    *,
    other_category: bool,
) -> Rule:
    """A rule that does not fire: a near miss, an unrelated rule, or (medium and hard) a rule about another
    category whose conditions the fact satisfies."""
    consequent = rng.choice(unknown)
    if other_category and level.category_rules:
        other = rng.choice([c for c in sorted(SUBJECTS) if c != category])
        return Rule(other, None, tuple(rng.sample(fact, 2)), "and", consequent)
    rule_subject = None if level.category_rules and rng.random() < 0.5 else subject
    others = [a for a in unknown if a != consequent]
    conditions: tuple[str, ...]
    if rng.random() < 0.5:
        # Near miss: one condition holds, the other does not, and "and" needs both.
        conditions = (rng.choice(sorted(known)), rng.choice(others))
        conjunction: Conjunction = "and"
    else:
        conditions = tuple(rng.sample(others, rng.choice((1, 2))))
        conjunction = "or" if len(conditions) == 2 else "and"
    conditions = tuple(rng.sample(conditions, len(conditions)))
    return Rule(category, rule_subject, conditions, conjunction, consequent)


def render_input(problem: Problem) -> str:
    """Rules, fact and question, one per line."""
    subject_phrase = _noun(problem.category, problem.subject, "the")
    fact = f"{subject_phrase[0].upper()}{subject_phrase[1:]} is {' and '.join(problem.fact_words)}."
    rules = [rule.render() for rule in problem.rules]
    return "\n".join(["Rules:", *rules, f"Fact: {fact}", f"Question: What else is {subject_phrase}?"])


def answers(problem: Problem) -> list[str]:
    """Correct answers: the derived attributes joined by "and", in derivation order first, then reversed."""
    first = " and ".join(problem.derived)
    reverse = " and ".join(reversed(problem.derived))
    return [first] if reverse == first else [first, reverse]


@scenario("lpm")
class LPMScenario(GeneratedScenario):
    """Rules plus a fact; name what follows (HELM's synthetic_reasoning_natural)."""

    name: ClassVar[str] = "lpm"
    description: ClassVar[str] = "Apply natural-language if-then rules to a fact and name what follows"
    tags: ClassVar[tuple[str, ...]] = ("reasoning", "language", "pattern_matching")

    def __init__(
        self,
        difficulty: LPMDifficulty = "easy",
        num_train_instances: int = 100,
        num_valid_instances: int = 100,
        num_test_instances: int = 500,
        seed: int = 42,
    ) -> None:
        """Check the arguments.

        Raises:
            ValueError: for an unknown difficulty (naming the valid ones) or a negative count.
        """
        check_choice("difficulty", difficulty, DIFFICULTIES)
        super().__init__(split_counts(num_train_instances, num_valid_instances, num_test_instances), seed, difficulty)
        self.difficulty = difficulty
        self.level = LEVELS[difficulty]

    def _make(self, rng: random.Random, split: str) -> Instance:
        problem = generate_problem(rng, self.level)
        return Instance(
            input=render_input(problem),
            references=tuple(Reference(output=a, tags=(CORRECT_TAG,)) for a in answers(problem)),
            split=split,
        )
