"""The `Runner`: one RunSpec in, its results on disk. It reads as its pipeline:

scenario -> instances -> evaluation subset -> perturbations -> adapter -> execution -> metrics -> files.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from bench._errors import MercuryError
from bench._instance import Instance
from bench._object_spec import MetricSpec
from bench._request import RequestResult
from bench._stat import Stat
from bench.adaptation import RequestState, ScenarioState
from bench.metrics import ToxicityService
from bench.models import ModelService
from bench.run_specs import RunSpec
from bench.runner import _output as output
from bench.runner._evaluation import PerInstanceStats, StatsAccumulator, score_instances
from bench.runner._executor import Executor
from bench.runner._failures import FailureCounts, FailurePolicy, must_retry
from bench.runner._steps import (
    ProgressFactory,
    adapt,
    create_metrics,
    load_instances,
    metric_context,
    scenario_info,
)
from bench.scenarios import Scenario

logger = logging.getLogger(__name__)

DRY_RUN_METRIC = MetricSpec(name="dry_run")


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

    def failure_counts(self) -> FailureCounts:
        """The run's requests, failed requests and retriable failed requests."""
        return FailureCounts(self.num_requests, self.num_failed_requests, self.num_retriable_failed_requests)


class Runner:
    """Runs RunSpecs in-process against a ModelService and writes their results.

    Args:
        service: answers the requests (in-process models here; the proxy or Ray elsewhere).
        output_path: root folder of the results (`benchmark_output` by default in the CLI).
        suite: name grouping the runs under `runs/<suite>/`.
        dry_run: adapt and count tokens, send no request, write nothing.
        skip_completed: reuse a run whose stats.json exists instead of running it again.
        parallelism: batches in flight at once.
        progress: factory of progress callbacks (the CLI passes tqdm bars), or None.
        toxicity: the toxicity service for toxicity metrics (None: they report nothing and say why).
        failure_policy: how many failed requests a complete run may have (default: none). A run with more
            writes everything but stats.json, so it stays resumable: with `skip_completed`, a rerun reuses
            its answered requests and sends only those that must be retried (bench.runner._failures).
    """

    def __init__(
        self,
        service: ModelService | None,
        output_path: str | Path,
        suite: str,
        *,
        dry_run: bool = False,
        skip_completed: bool = False,
        parallelism: int = 4,
        batch_size: int = 8,
        progress: ProgressFactory | None = None,
        toxicity: ToxicityService | None = None,
        failure_policy: FailurePolicy | None = None,
    ) -> None:
        if service is None and not dry_run:
            raise ValueError("a service is needed unless dry_run is set")
        self.service = service
        self.output_path = Path(output_path)
        self.suite = suite
        self.dry_run = dry_run
        self.skip_completed = skip_completed
        self.parallelism = parallelism
        self.batch_size = batch_size
        self.progress = progress
        self.toxicity = toxicity
        self.failure_policy = failure_policy or FailurePolicy()

    def run_all(self, run_specs: Sequence[RunSpec], *, keep_going: bool = False) -> list[RunResult]:
        """Run every RunSpec in order.

        Args:
            keep_going: a run that fails with a MercuryError (missing data, unavailable model) is recorded as
                failed (with `error.json` in its folder) and the next run starts; otherwise the error propagates.
        """
        results = []
        for run_spec in run_specs:
            try:
                results.append(self.run_one(run_spec))
            except MercuryError as e:
                if not keep_going:
                    raise
                logger.error("%s failed: %s", run_spec.name, e)
                results.append(self._failed(run_spec, str(e)))
        return results

    def _failed(self, run_spec: RunSpec, error: str) -> RunResult:
        """Record a failed run; `error.json` tells benchmark-present it failed (a finished run has stats.json)."""
        run_dir = None
        if not self.dry_run:
            run_dir = output.run_dir(self.output_path, self.suite, run_spec.name)
            output.write_json(run_dir / output.ERROR_FILE, {"error": error, "failed_at": time.time()})
        return RunResult(run_spec, [], 0, 0, 0, run_dir, error=error)

    def run_one(self, run_spec: RunSpec) -> RunResult:
        """Run one RunSpec end to end."""
        run_dir = output.run_dir(self.output_path, self.suite, run_spec.name)
        if self.skip_completed and not self.dry_run and (run_dir / output.STATS_FILE).exists():
            return self._completed(run_spec, run_dir)
        timings = RunTimings()

        started = time.perf_counter()
        scenario, instances = load_instances(run_spec, output.scenarios_dir(self.output_path))
        timings.instances = time.perf_counter() - started

        started = time.perf_counter()
        request_states = adapt(run_spec, instances)
        timings.adaptation = time.perf_counter() - started

        started = time.perf_counter()
        if not self.dry_run:
            request_states = self._execute(run_spec, request_states, self._earlier_results(run_spec, run_dir))
        timings.execution = time.perf_counter() - started

        started = time.perf_counter()
        context = metric_context(run_spec, self.toxicity)
        metrics = create_metrics([DRY_RUN_METRIC] if self.dry_run else run_spec.metric_specs)
        per_instance = score_instances(metrics, request_states, context)
        stats = StatsAccumulator().add(per_instance).finalize(metrics, context)
        timings.metrics = time.perf_counter() - started

        counts = FailureCounts.of(s.result for s in request_states) if not self.dry_run else FailureCounts(0, 0, 0)
        result = RunResult(
            run_spec=run_spec,
            stats=stats,
            num_instances=len({(s.instance.id, s.instance.perturbation) for s in request_states}),
            num_requests=len(request_states),
            num_failed_requests=counts.num_failed,
            output_dir=None if self.dry_run else run_dir,
            timings=timings,
            num_retriable_failed_requests=counts.num_retriable,
        )
        if not self.failure_policy.is_complete(counts):
            result.incomplete = self.failure_policy.incomplete_message(run_spec.name, counts)
        if not self.dry_run:
            started = time.perf_counter()
            self._write(run_dir, scenario, instances, request_states, per_instance, result)
            timings.writing = time.perf_counter() - started
        return result

    def _execute(
        self, run_spec: RunSpec, request_states: list[RequestState], earlier: dict[str, RequestResult]
    ) -> list[RequestState]:
        """Request states with results: an earlier incomplete attempt's result where it need not be retried,
        else a new one from the service."""
        assert self.service is not None
        keys = [_state_key(state) for state in request_states]
        todo = [state for state, key in zip(request_states, keys) if key not in earlier]
        if earlier:
            logger.info("%s: resuming, %d of %d requests to send", run_spec.name, len(todo), len(request_states))
        on_progress = self.progress(run_spec.name, len(todo)) if self.progress and todo else None
        executor = Executor(self.service, parallelism=self.parallelism, batch_size=self.batch_size)
        executed = iter(executor.execute(todo, on_progress))
        return [
            state.with_result(earlier[key]) if key in earlier else next(executed)
            for state, key in zip(request_states, keys)
        ]

    def _earlier_results(self, run_spec: RunSpec, run_dir: Path) -> dict[str, RequestResult]:
        """Results of an earlier, incomplete attempt at this run that need not be sent again, by request state.

        Only when resuming (`skip_completed`): the run has no stats.json but a scenario_state.json of the
        same RunSpec. Results that must be retried (bench.runner._failures.must_retry) are left out.
        """
        state_file, spec_file = run_dir / output.SCENARIO_STATE_FILE, run_dir / output.RUN_SPEC_FILE
        if self.dry_run or not self.skip_completed or not state_file.exists() or not spec_file.exists():
            return {}
        if output.read_json(spec_file) != output.to_jsonable(run_spec):
            return {}
        earlier = ScenarioState.model_validate(output.read_json(state_file))
        return {
            _state_key(state): state.result
            for state in earlier.request_states
            if state.result is not None and not must_retry(state.result)
        }

    def _write(
        self,
        run_dir: Path,
        scenario: Scenario,
        instances: list[Instance],
        request_states: list[RequestState],
        per_instance: list[PerInstanceStats],
        result: RunResult,
    ) -> None:
        run_spec = result.run_spec
        (run_dir / output.STATS_FILE).unlink(missing_ok=True)  # recomputing: not complete until written again
        output.write_json(run_dir / output.RUN_SPEC_FILE, run_spec)
        output.write_json(run_dir / output.SCENARIO_FILE, scenario_info(run_spec, scenario, instances))
        scenario_state = ScenarioState(adapter_spec=run_spec.adapter_spec, request_states=request_states)
        output.write_json(run_dir / output.SCENARIO_STATE_FILE, scenario_state)
        output.write_json(run_dir / output.PER_INSTANCE_STATS_FILE, per_instance)
        output.write_json(run_dir / output.RUN_INFO_FILE, run_info(result, self.suite))
        if result.incomplete is not None:  # no completion marker: the run stays resumable, and says why
            output.write_json(run_dir / output.ERROR_FILE, incomplete_marker(result))
            return
        # stats.json last: its presence marks the run as complete (see skip_completed)
        output.write_json(run_dir / output.STATS_FILE, result.stats)
        (run_dir / output.ERROR_FILE).unlink(missing_ok=True)  # an earlier failure of this run is now history

    def _completed(self, run_spec: RunSpec, run_dir: Path) -> RunResult:
        logger.info("%s: already complete in %s, skipped", run_spec.name, run_dir)
        info_file = run_dir / output.RUN_INFO_FILE
        info = output.read_json(info_file) if info_file.exists() else {}
        return completed_result(run_spec, output.read_json(run_dir / output.STATS_FILE), info, run_dir)


def _state_key(state: RequestState) -> str:
    """What identifies a request state across attempts at a run: its instance, perturbation, train trial and
    request (adaptation is deterministic, so a rerun makes the same ones)."""
    perturbation = state.instance.perturbation.model_dump_json() if state.instance.perturbation else ""
    return "\x1f".join(
        (state.instance.id or "", perturbation, str(state.train_trial_index), state.request.model_dump_json())
    )


def completed_result(run_spec: RunSpec, stats: list[Any], info: dict[str, Any], output_dir: Path | None) -> RunResult:
    """A complete run's result as stored: its stats.json and the counts of its run_info.json (empty when there is
    none), marked `skipped` (no time spent). Every reader of a complete run builds it here."""
    return RunResult(
        run_spec=run_spec,
        stats=[output.stat_from_json(s) for s in stats],
        num_instances=info.get("num_instances", 0),
        num_requests=info.get("num_requests", 0),
        num_failed_requests=info.get("num_failed_requests", 0),
        output_dir=output_dir,
        skipped=True,
        num_retriable_failed_requests=info.get("num_retriable_failed_requests", 0),
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
