"""The completeness rule: what a rerun retries, when a run is complete, failures counted as wrong; and the
in-process Runner applying it (no stats.json, resume sends only what failed, the same stats as a clean run)."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from bench import MetricName, Request, RequestResult, Stat
from bench.models import InProcessService
from bench.run_specs import RunSpec, expand_run_entry
from bench.runner import (
    ERROR_FILE,
    RUN_INFO_FILE,
    STATS_FILE,
    FailureCounts,
    FailurePolicy,
    Runner,
    must_retry,
    with_failures_as_zero,
)

OK = RequestResult(success=True)
RETRIABLE = RequestResult.failure("provider answered HTTP 503", retriable=True)
FATAL = RequestResult.failure("provider answered HTTP 400: prompt too long", retriable=False)


def test_only_missing_and_retriable_results_are_retried() -> None:
    assert [must_retry(r) for r in (None, OK, RETRIABLE, FATAL)] == [True, False, True, False]
    # a failure that does not say its kind: nothing says retrying is pointless
    assert must_retry(RequestResult(success=False, error="?"))


def test_counts_and_finished() -> None:
    counts = FailureCounts.of([OK, RETRIABLE, FATAL, None, OK])
    assert (counts.num_requests, counts.num_failed, counts.num_retriable) == (5, 3, 2)
    assert counts.failed_fraction == pytest.approx(0.6)
    assert not counts.finished
    assert FailureCounts.of([OK, FATAL]).finished  # a fatal failure is final: the piece is not run again
    assert FailureCounts.of([]).failed_fraction == 0.0


def test_policy_allows_up_to_its_fraction() -> None:
    one_of_four = FailureCounts(4, 1, 1)
    assert FailurePolicy().is_complete(FailureCounts(4, 0, 0))
    assert not FailurePolicy().is_complete(one_of_four)  # default 0: any failure
    assert FailurePolicy(0.25).is_complete(one_of_four)  # the bound itself is allowed
    assert not FailurePolicy(0.24).is_complete(one_of_four)
    assert FailurePolicy(1.0).is_complete(FailureCounts(4, 4, 4))


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_policy_rejects_a_fraction_outside_0_1(bad: float) -> None:
    with pytest.raises(ValueError, match=r"max_failed_fraction=.* must be a fraction between 0 and 1"):
        FailurePolicy(bad)


def test_messages_name_the_run_the_counts_and_the_way_out() -> None:
    message = FailurePolicy().incomplete_message("simple1:model=m", FailureCounts(3, 2, 1))
    assert message.startswith("run simple1:model=m is incomplete: 2 of 3 requests failed (66.7%")
    assert "rerun the same command to retry the 1 retriable ones" in message
    assert "1 failed for good" in message and "--force" in message
    assert "--max-failed-fraction 0.667" in message  # rounded up, so it does admit 2/3
    assert FailurePolicy(0.7).is_complete(FailureCounts(3, 2, 1))
    done = FailurePolicy(0.7).complete_message("r", FailureCounts(3, 2, 1))
    assert done == "run r is complete with 2 of 3 requests failed (66.7%, within --max-failed-fraction 0.7)"
    assert FailurePolicy(0.7).complete_message("r", FailureCounts(3, 0, 0)) is None


def test_failures_count_as_zero_in_the_all_variant() -> None:
    # 4 answered instances scored 1, 0, 1, 1 and 2 failed ones: over answered 3/4, over all 3/6
    stats = {
        "exact_match": Stat.of("exact_match", 1, 0, 1, 1),
        "request_failed": Stat.of("request_failed", 0, 0, 1, 0, 0, 1),
        "perplexity": Stat.of("perplexity", 3.0, 4.0),
    }
    [derived] = with_failures_as_zero(stats)
    assert derived.name == MetricName(name="exact_match_all")
    assert derived.model_dump() == Stat.of("exact_match_all", 1, 0, 1, 1, 0, 0).model_dump()
    assert derived.mean == 0.5 and stats["exact_match"].mean == 0.75
    # without failures the variant equals the figure; without `basic` there is none
    clean = {"f1_score": Stat.of("f1_score", 0.5, 1.0), "request_failed": Stat.of("request_failed", 0, 0)}
    assert [(s.name.name, s.mean, s.count) for s in with_failures_as_zero(clean)] == [("f1_score_all", 0.75, 2)]
    assert with_failures_as_zero({"exact_match": Stat.of("exact_match", 1.0)}) == []


class FlakyService(InProcessService):
    """simple/model1, but while `failing` it refuses every third prompt (by its characters) with `failure`;
    it records every prompt it is sent."""

    def __init__(self, failure: RequestResult = RETRIABLE) -> None:
        super().__init__()
        self.failing = True
        self.failure = failure
        self.sent: list[str] = []
        self._lock = threading.Lock()

    def make_requests(self, requests: Sequence[Request]) -> list[RequestResult]:
        with self._lock:
            self.sent += [r.prompt for r in requests]
        answers = super().make_requests(requests)
        return [
            self.failure if self.failing and sum(map(ord, r.prompt)) % 3 == 0 else a for r, a in zip(requests, answers)
        ]


NUM_EVAL = 12
TIMING = {"inference_runtime"}


@pytest.fixture(scope="module")
def spec() -> RunSpec:
    [run_spec] = expand_run_entry("simple1:model=simple/model1", default_max_eval_instances=NUM_EVAL)
    return run_spec


def figures(stats: list[Stat]) -> dict[str, tuple[object, ...]]:
    return {str(s.name): (s.count, s.sum, s.sum_squared, s.min, s.max) for s in stats if s.name.name not in TIMING}


def test_a_run_with_failed_requests_is_incomplete_and_a_rerun_sends_only_those(spec: RunSpec, tmp_path: Path) -> None:
    clean = Runner.in_process(InProcessService(), tmp_path / "clean", "t").run_one(spec)
    service = FlakyService()
    runner = Runner.in_process(service, tmp_path / "out", "t")

    first = runner.run_one(spec)
    failed_prompts = [p for p in service.sent if sum(map(ord, p)) % 3 == 0]
    assert 0 < first.num_failed_requests == len(failed_prompts) < NUM_EVAL
    assert first.incomplete is not None and f"{first.num_failed_requests} of {NUM_EVAL} requests failed" in (
        first.incomplete
    )
    run_dir = first.output_dir
    assert run_dir is not None and not (run_dir / STATS_FILE).exists()  # no completion marker
    marker = json.loads((run_dir / ERROR_FILE).read_text())
    assert marker["incomplete"] is True and marker["num_failed_requests"] == first.num_failed_requests
    info = json.loads((run_dir / RUN_INFO_FILE).read_text())
    assert info["complete"] is False and info["num_retriable_failed_requests"] == first.num_failed_requests
    stats = {str(s.name): s for s in first.stats}
    assert stats["request_failed(split=test)"].sum == first.num_failed_requests
    answered = stats["exact_match(split=test)"]
    assert answered.count == NUM_EVAL - first.num_failed_requests
    all_instances = stats["exact_match_all(split=test)"]
    assert (all_instances.count, all_instances.sum) == (NUM_EVAL, answered.sum)

    # the fault is gone: the rerun sends only the failed requests and ends where a clean run ends
    service.failing, service.sent = False, []
    second = runner.run_one(spec)
    assert sorted(service.sent) == sorted(failed_prompts)
    assert second.incomplete is None and second.num_failed_requests == 0
    assert (run_dir / STATS_FILE).exists() and not (run_dir / ERROR_FILE).exists()
    assert figures(second.stats) == figures(clean.stats)

    service.sent = []  # complete now: a third run is skipped
    assert runner.run_one(spec).skipped and service.sent == []


def test_fatal_failures_are_not_resent_and_an_allowed_fraction_completes(spec: RunSpec, tmp_path: Path) -> None:
    service = FlakyService(FATAL)
    first = Runner.in_process(service, tmp_path, "t").run_one(spec)
    assert first.incomplete is not None and "failed for good" in first.incomplete
    assert first.num_retriable_failed_requests == 0

    service.failing, service.sent = False, []
    fraction = first.num_failed_requests / NUM_EVAL
    again = Runner.in_process(service, tmp_path, "t", failure_policy=FailurePolicy(fraction)).run_one(spec)
    assert service.sent == []  # nothing to retry: the fatal failures are kept as they are
    assert again.incomplete is None and again.num_failed_requests == first.num_failed_requests
    assert again.output_dir is not None and (again.output_dir / STATS_FILE).exists()


def test_a_slice_where_every_instance_failed_scores_0_over_them() -> None:
    # the run's other slices have exact_match; this one has only failures, so no exact_match of its own
    stats = {"request_failed": Stat.of("request_failed", 1, 1)}
    [derived] = with_failures_as_zero(stats, ["exact_match"])
    assert (derived.name.name, derived.count, derived.sum, derived.min, derived.max) == ("exact_match_all", 2, 0, 0, 0)
