"""What a run reports (`RunResult`, with its `RunTimings`) and what it writes about itself (run_info.json, the
incomplete marker). Every runner and every reader of stored runs builds results here."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from bench._stat import Stat
from bench.run_specs import RunSpec
from bench.runner._failures import FailureCounts
from bench.runner._output import stat_from_json


@dataclass
class RunTimings:
    """Seconds spent in each step of a run, or (summed over its runs, see `sum`) of a whole command.

    The steps are disjoint stretches of wall-clock time, so they add up to at most the time they cover.
    """

    startup: float = 0.0
    """Before any run could start: for a command, from its process's start until its runner was ready (Ray
    connected and the proxy found or deployed, when on Ray); 0 for one run."""
    instances: float = 0.0
    """Loading: the scenario's instances, their evaluation subset and perturbations (on Ray, the preparing
    task's wall time, its worker's start included)."""
    adaptation: float = 0.0
    """Turning instances into requests (on Ray the tasks adapt: that counts as execution)."""
    execution: float = 0.0
    """Sending the requests and getting their results (on Ray: the shard tasks, which also score)."""
    metrics: float = 0.0
    """Computing the Stats (on Ray: concatenating the shards' tables and folding their per-instance Stats)."""
    writing: float = 0.0
    """Writing the run's files."""

    STEPS: ClassVar[tuple[str, ...]] = ("startup", "instances", "adaptation", "execution", "metrics", "writing")
    """The fields, in the order they happen."""

    @property
    def total(self) -> float:
        return sum(getattr(self, step) for step in self.STEPS)

    @classmethod
    def sum(cls, timings: Iterable[RunTimings], *, startup: float = 0.0) -> RunTimings:
        """Step by step sums of `timings` (a command's runs), with the command's `startup`."""
        summed = cls(startup=startup)
        for one in timings:
            for step in cls.STEPS:
                setattr(summed, step, getattr(summed, step) + getattr(one, step))
        return summed


@dataclass
class RunResult:
    """What a finished run reports: its stats and where its files are."""

    run_spec: RunSpec
    stats: list[Stat]
    num_instances: int
    num_requests: int
    num_failed_requests: int
    output_dir: Path | None
    timings: RunTimings = field(default_factory=RunTimings)
    skipped: bool = False
    error: str | None = None
    """Why the run failed (the other fields are then empty); None for a finished run."""
    num_retriable_failed_requests: int = 0
    """Failed requests a rerun sends again (see bench.runner._failures); the others failed for good."""
    incomplete: str | None = None
    """Why the run is not complete (too many failed requests: no stats.json), in one line; None when complete."""
    output_uri: str = ""
    """Where the run is stored: its folder, or its `s3://` URI (`output_dir` is None for S3)."""
    shards_run: int = 0
    shards_reused: int = 0
    """Shards executed now, and shards an earlier attempt had stored and that were kept."""

    def failure_counts(self) -> FailureCounts:
        """The run's requests, failed requests and retriable failed requests."""
        return FailureCounts(self.num_requests, self.num_failed_requests, self.num_retriable_failed_requests)


def completed_result(
    run_spec: RunSpec, stats: list[Any], info: dict[str, Any], output_dir: Path | None, output_uri: str = ""
) -> RunResult:
    """A complete run's result as stored: its stats.json and the counts of its run_info.json (empty when there is
    none), marked `skipped` (no time spent). Every reader of a complete run builds it here."""
    return RunResult(
        run_spec=run_spec,
        stats=[stat_from_json(s) for s in stats],
        num_instances=info.get("num_instances", 0),
        num_requests=info.get("num_requests", 0),
        num_failed_requests=info.get("num_failed_requests", 0),
        output_dir=output_dir,
        skipped=True,
        num_retriable_failed_requests=info.get("num_retriable_failed_requests", 0),
        output_uri=output_uri,
        shards_reused=info.get("num_shards", 0),
    )


def incomplete_marker(result: RunResult) -> dict[str, Any]:
    """error.json of a run with too many failed requests: why it is incomplete, and its counts."""
    return {
        "error": result.incomplete,
        "incomplete": True,
        "num_requests": result.num_requests,
        "num_failed_requests": result.num_failed_requests,
        "num_retriable_failed_requests": result.num_retriable_failed_requests,
        "failed_at": time.time(),
    }


def run_info(result: RunResult, suite: str, **extra: Any) -> dict[str, Any]:
    """What run_info.json says about a finished run: counts, seconds per step, when; `extra` adds fields."""
    t = result.timings
    return {
        "suite": suite,
        "num_instances": result.num_instances,
        "num_requests": result.num_requests,
        "num_failed_requests": result.num_failed_requests,
        "num_retriable_failed_requests": result.num_retriable_failed_requests,
        "complete": result.incomplete is None,
        **extra,
        "timings_seconds": {
            "instances": t.instances,
            "adaptation": t.adaptation,
            "execution": t.execution,
            "metrics": t.metrics,
        },
        "finished_at": time.time(),
    }
