"""The `code` metric: the unbiased pass@k estimator by hand, and completions run against HumanEval's tests."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bench import Instance, Request, RequestResult
from bench.adaptation import RequestState
from bench.metrics import create_metric
from bench.metrics._code import CodeMetric, pass_at_k
from bench.scenarios._humaneval import packaged_data_file, problem_instance, read_problems
from tests.bench.metrics.builders import FAILED, completion, context, success


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (5, 2, 1, 2 / 5),  # c / n
        (5, 2, 2, 1 - 3 / 10),  # 1 - C(3,2)/C(5,2)
        (5, 2, 3, 1 - 1 / 10),  # 1 - C(3,3)/C(5,3)
        (5, 3, 3, 1.0),  # n - c < k: every draw of 3 holds a correct one
        (5, 0, 3, 0.0),
        (5, 5, 5, 1.0),
        (10, 1, 5, 1 - 126 / 252),  # 1 - C(9,5)/C(10,5) = 0.5
        (1, 1, 1, 1.0),
    ],
)
def test_pass_at_k_by_hand(n: int, c: int, k: int, expected: float) -> None:
    assert pass_at_k(n, c, k) == pytest.approx(expected)


@pytest.mark.parametrize(("n", "c", "k"), [(3, 4, 1), (3, 1, 4), (3, 1, 0), (3, -1, 1)])
def test_pass_at_k_rejects_impossible_counts(n: int, c: int, k: int) -> None:
    with pytest.raises(ValueError, match="pass@k needs"):
        pass_at_k(n, c, k)


@pytest.fixture(scope="module")
def problem0() -> Instance:
    path = packaged_data_file()
    assert path is not None
    return problem_instance(read_problems(Path(path))[0])


def _state(instance: Instance, *texts: str, result: RequestResult | None = None) -> RequestState:
    return RequestState(
        instance=instance,
        request=Request(model="simple/model1", prompt=instance.input, num_completions=max(1, len(texts))),
        result=result or success(*(completion(t) for t in texts)),
    )


def test_canonical_solution_passes_and_a_wrong_one_fails(problem0: Instance) -> None:
    canonical = problem0.references[0].output
    metric = CodeMetric(k=2, timeout_seconds=1.0)
    stats = {
        s.name.name: s for s in metric.evaluate_instance([_state(problem0, canonical, "    return False\n")], context())
    }
    assert stats["pass@1"].sum == pytest.approx(0.5)  # 1 of 2 passes
    assert stats["pass@2"].sum == pytest.approx(1.0)  # 1 - C(1,2)/C(2,2)


def test_a_looping_completion_counts_as_a_failure(problem0: Instance) -> None:
    canonical = problem0.references[0].output
    looping = "    while True:\n        pass\n"
    metric = CodeMetric(k=2, timeout_seconds=1.0)
    stats = {
        s.name.name: s for s in metric.evaluate_instance([_state(problem0, canonical, looping, looping)], context())
    }
    assert stats["pass@1"].sum == pytest.approx(1 / 3)
    assert stats["pass@2"].sum == pytest.approx(1 - 1 / 3)  # 1 - C(2,2)/C(3,2)


def test_pass_at_k_is_left_out_when_there_are_fewer_completions_than_k(
    problem0: Instance, caplog: pytest.LogCaptureFixture
) -> None:
    metric = create_metric("code", {"k": 5, "timeout_seconds": 1.0})
    with caplog.at_level(logging.WARNING):
        for _ in range(2):
            stats = metric.evaluate_instance([_state(problem0, "    return True\n")], context())
            assert [s.name.name for s in stats] == ["pass@1"] and stats[0].sum == 0.0
    assert sum("pass@5 needs at least 5 completions" in r.message for r in caplog.records) == 1


def test_failed_request_or_missing_tests_give_no_stats(problem0: Instance) -> None:
    metric = CodeMetric()
    assert metric.evaluate_instance([_state(problem0, result=FAILED)], context()) == []
    bare = Instance(input="def f():\n", id="x")
    assert metric.evaluate_instance([_state(bare, "    return 1\n")], context()) == []


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="k=0"):
        CodeMetric(k=0)
    with pytest.raises(ValueError, match="timeout_seconds=0"):
        CodeMetric(timeout_seconds=0)
