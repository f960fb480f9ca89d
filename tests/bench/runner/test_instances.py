"""Instance ids and the fixed-seed evaluation subset."""

from __future__ import annotations

from bench import Instance
from bench.runner import sample_eval_instances, with_ids


def _instances(n_train: int, n_test: int) -> list[Instance]:
    return [Instance(input=f"t{k}", split="train") for k in range(n_train)] + [
        Instance(input=f"e{k}", split="test") for k in range(n_test)
    ]


def test_ids_count_in_order_and_keep_existing() -> None:
    instances = with_ids([Instance(input="a"), Instance(input="b", id="mine"), Instance(input="c")])
    assert [i.id for i in instances] == ["id0", "mine", "id2"]


def test_subset_keeps_train_and_is_stable() -> None:
    instances = with_ids(_instances(3, 20))
    subset = sample_eval_instances(instances, 5)
    assert [i.input for i in subset[:3]] == ["t0", "t1", "t2"]
    evals = [i.input for i in subset[3:]]
    assert len(evals) == 5
    # same seed, same subset, in original order
    assert evals == [i.input for i in sample_eval_instances(instances, 5)[3:]]
    assert evals == sorted(evals, key=lambda s: int(s[1:]))


def test_no_subset_when_small_enough() -> None:
    instances = _instances(1, 4)
    assert sample_eval_instances(instances, 10) == instances
    assert sample_eval_instances(instances, None) == instances
