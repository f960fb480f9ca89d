"""Instance ids and the evaluation subset, compared with HELM 0.5.16's `downsample_eval_instances`."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from bench import Instance
from bench.runner import sample_eval_instances, with_ids
from bench.scenarios._mmlu import MMLUScenario


def _instances(n_train: int, n_test: int) -> list[Instance]:
    return [Instance(input=f"t{k}", split="train") for k in range(n_train)] + [
        Instance(input=f"e{k}", split="test") for k in range(n_test)
    ]


def _helm_downsample(instances: list[Instance], max_eval_instances: int) -> list[Instance]:
    """HELM 0.5.16 runner.downsample_eval_instances, re-implemented from its source (global seed and all)."""
    all_train = [i for i in instances if i.split == "train"]
    all_eval = [i for i in instances if i.split in ("valid", "test")]
    if len(all_eval) > max_eval_instances:
        np.random.seed(0)
        selected = list(np.random.choice(all_eval, max_eval_instances, replace=False))  # type: ignore[arg-type]
    else:
        selected = all_eval
    return all_train + selected


def _mmlu_cache(root: Path, n_val: int, n_test: int) -> Path:
    """An MMLU cache in the upstream layout (headerless CSV rows) with a subject of the given sizes."""
    for folder, n in (("dev", 5), ("val", n_val), ("test", n_test)):
        (root / "data" / folder).mkdir(parents=True, exist_ok=True)
        with (root / "data" / folder / f"philosophy_{folder}.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            for k in range(n):
                writer.writerow([f"{folder} question {k}?", "w", "x", "y", "z", "ABCD"[k % 4]])
    return root


def test_ids_count_in_order_and_keep_existing() -> None:
    instances = with_ids([Instance(input="a"), Instance(input="b", id="mine"), Instance(input="c")])
    assert [i.id for i in instances] == ["id0", "mine", "id2"]


@pytest.mark.parametrize(("n_val", "n_test", "n"), [(34, 311, 50), (34, 311, 5), (11, 100, 10), (5, 30, 34)])
def test_mmlu_subset_is_helms(tmp_path: Path, n_val: int, n_test: int, n: int) -> None:
    # philosophy has 34 val and 311 test questions upstream: the first case is `mmlu:subject=philosophy` at 50.
    instances = with_ids(MMLUScenario("philosophy").get_instances(str(_mmlu_cache(tmp_path, n_val, n_test))))
    ours = sample_eval_instances(instances, n)
    helm = _helm_downsample(instances, n)
    assert [i.id for i in ours] == [i.id for i in helm]
    assert len(ours) == 5 + n


def test_subset_matches_hand_checked_numpy_draw() -> None:
    # np.random.seed(0); np.random.permutation(10) is [2 8 4 9 1 6 7 3 0 5]: HELM keeps its first four, in draw order.
    subset = sample_eval_instances(with_ids(_instances(2, 10)), 4)
    assert [i.input for i in subset] == ["t0", "t1", "e2", "e8", "e4", "e9"]


def test_subset_leaves_numpy_global_state_alone() -> None:
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    sample_eval_instances(_instances(0, 20), 5)
    assert np.random.random() == expected


def test_smaller_subset_is_a_prefix_of_a_larger_one() -> None:
    instances = with_ids(_instances(0, 40))
    assert sample_eval_instances(instances, 20)[:7] == sample_eval_instances(instances, 7)


def test_no_subset_when_small_enough() -> None:
    instances = _instances(1, 4)
    assert sample_eval_instances(instances, 10) == instances
    assert sample_eval_instances(instances, None) == instances


def test_a_limit_drops_other_splits_as_helm_does() -> None:
    instances = [*_instances(1, 3), Instance(input="odd", split="extra")]
    assert sample_eval_instances(instances, 10) == instances[:4]
    assert sample_eval_instances(instances, None) == instances
