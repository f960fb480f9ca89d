"""Drawing in-context examples: seeded, covering the labels, or the first ones."""

from __future__ import annotations

from bench.adaptation import sample_examples
from tests.bench.adaptation._helpers import instance


def _train(*labels: str | None) -> list:
    """One train instance per label (None: no correct reference), inputs "t0", "t1", ..."""
    return [
        instance(f"t{i}", label or "x", correct=None if label is None else 0, split="train")
        for i, label in enumerate(labels)
    ]


def test_same_seed_same_draw_and_other_seeds_draw_differently() -> None:
    train = _train(*[f"label{i}" for i in range(10)])
    draws = [[e.input for e in sample_examples(train, 3, seed)] for seed in range(4)]
    assert draws[0] == [e.input for e in sample_examples(train, 3, 0)]
    assert len({tuple(d) for d in draws}) > 1
    assert all(len(set(d)) == 3 for d in draws)  # without replacement


def test_draw_covers_every_label_most_frequent_first() -> None:
    train = _train("yes", "yes", "yes", "no", "no", "maybe")
    for seed in range(5):
        labels = [e.references[0].output for e in sample_examples(train, 3, seed)]
        assert labels == ["yes", "no", "maybe"]
        # a fourth example starts the next round of labels
        labels = [e.references[0].output for e in sample_examples(train, 4, seed)]
        assert labels == ["yes", "no", "maybe", "yes"]


def test_instances_without_a_correct_reference_fill_what_labels_cannot() -> None:
    train = _train("a", None, "b", None, None)
    drawn = sample_examples(train, 4, seed=0)
    assert {e.input for e in drawn[:2]} == {"t0", "t2"}
    assert {e.input for e in drawn[2:]} <= {"t1", "t3", "t4"}
    assert len({e.input for e in drawn}) == 4


def test_without_sampling_the_first_ones_for_every_trial() -> None:
    train = _train("a", "b", "c", "d")
    assert [e.input for e in sample_examples(train, 2, seed=0, sample=False)] == ["t0", "t1"]
    assert [e.input for e in sample_examples(train, 2, seed=5, sample=False)] == ["t0", "t1"]


def test_asking_for_more_than_there_are_gives_them_all() -> None:
    train = _train("a", "b")
    assert sorted(e.input for e in sample_examples(train, 5, seed=1)) == ["t0", "t1"]
    assert sample_examples(train, 0, seed=1) == []
    assert sample_examples([], 3, seed=1) == []
