"""The `Runner`: one RunSpec in, its results on disk. It reads as its pipeline:

scenario -> instances -> evaluation subset -> perturbations -> adapter -> execution -> metrics -> files.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._errors import MercuryError
from bench._instance import Instance
from bench._object_spec import MetricSpec
from bench._stat import Stat
from bench.adaptation import RequestState, ScenarioState
from bench.metrics import ToxicityService
from bench.models import ModelService
from bench.run_specs import RunSpec
from bench.runner import _output as output
from bench.runner._evaluation import PerInstanceStats, StatsAccumulator, score_instances
from bench.runner._executor import Executor
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
    """Seconds spent in each step of a run."""

    instances: float = 0.0
    adaptation: float = 0.0
    execution: float = 0.0
    metrics: float = 0.0
    writing: float = 0.0

    @property
    def total(self) -> float:
        return self.instances + self.adaptation + self.execution + self.metrics + self.writing


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
            request_states = self._execute(run_spec, request_states)
        timings.execution = time.perf_counter() - started

        started = time.perf_counter()
        context = metric_context(run_spec, self.toxicity)
        metrics = create_metrics([DRY_RUN_METRIC] if self.dry_run else run_spec.metric_specs)
        per_instance = score_instances(metrics, request_states, context)
        stats = StatsAccumulator().add(per_instance).finalize(metrics, context)
        timings.metrics = time.perf_counter() - started

        failed = sum(1 for s in request_states if s.result is not None and not s.result.success)
        result = RunResult(
            run_spec=run_spec,
            stats=stats,
            num_instances=len({(s.instance.id, s.instance.perturbation) for s in request_states}),
            num_requests=len(request_states),
            num_failed_requests=failed,
            output_dir=None if self.dry_run else run_dir,
            timings=timings,
        )
        if not self.dry_run:
            started = time.perf_counter()
            self._write(run_dir, scenario, instances, request_states, per_instance, result)
            timings.writing = time.perf_counter() - started
        return result

    def _execute(self, run_spec: RunSpec, request_states: list[RequestState]) -> list[RequestState]:
        assert self.service is not None
        on_progress = self.progress(run_spec.name, len(request_states)) if self.progress else None
        executor = Executor(self.service, parallelism=self.parallelism, batch_size=self.batch_size)
        return executor.execute(request_states, on_progress)

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
        output.write_json(run_dir / output.RUN_SPEC_FILE, run_spec)
        output.write_json(run_dir / output.SCENARIO_FILE, scenario_info(run_spec, scenario, instances))
        scenario_state = ScenarioState(adapter_spec=run_spec.adapter_spec, request_states=request_states)
        output.write_json(run_dir / output.SCENARIO_STATE_FILE, scenario_state)
        output.write_json(run_dir / output.PER_INSTANCE_STATS_FILE, per_instance)
        output.write_json(run_dir / output.RUN_INFO_FILE, run_info(result, self.suite))
        # stats.json last: its presence marks the run as complete (see skip_completed)
        output.write_json(run_dir / output.STATS_FILE, result.stats)
        (run_dir / output.ERROR_FILE).unlink(missing_ok=True)  # an earlier failure of this run is now history

    def _completed(self, run_spec: RunSpec, run_dir: Path) -> RunResult:
        logger.info("%s: already complete in %s, skipped", run_spec.name, run_dir)
        stats = [output.stat_from_json(s) for s in output.read_json(run_dir / output.STATS_FILE)]
        info = output.read_json(run_dir / output.RUN_INFO_FILE) if (run_dir / output.RUN_INFO_FILE).exists() else {}
        return RunResult(
            run_spec=run_spec,
            stats=stats,
            num_instances=info.get("num_instances", 0),
            num_requests=info.get("num_requests", 0),
            num_failed_requests=info.get("num_failed_requests", 0),
            output_dir=run_dir,
            skipped=True,
        )


def run_info(result: RunResult, suite: str, **extra: Any) -> dict[str, Any]:
    """What run_info.json says about a finished run: counts, seconds per step, when; `extra` adds fields."""
    t = result.timings
    return {
        "suite": suite,
        "num_instances": result.num_instances,
        "num_requests": result.num_requests,
        "num_failed_requests": result.num_failed_requests,
        **extra,
        "timings_seconds": {
            "instances": t.instances,
            "adaptation": t.adaptation,
            "execution": t.execution,
            "metrics": t.metrics,
        },
        "finished_at": time.time(),
    }
