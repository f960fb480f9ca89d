"""A dry run: what a RunSpec would send, without sending anything or writing a file.

It loads the instances and adapts them as the pipeline's shards would, and scores the requests with the
`dry_run` metric (bench.metrics): instances, requests, prompt tokens, and the cost estimate of the run's model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from bench._object_spec import MetricSpec
from bench.run_specs import RunSpec
from bench.runner._evaluation import StatsAccumulator, score_instances
from bench.runner._result import RunResult, RunTimings
from bench.runner._steps import adapt, create_metrics, load_instances, metric_context, scenario_cache_root
from bench.runner._storage import Storage

DRY_RUN_METRIC = MetricSpec(name="dry_run")


def dry_run(run_specs: Sequence[RunSpec], output: str | Path = "benchmark_output") -> list[RunResult]:
    """Each RunSpec's dry-run result, in order; scenarios' raw data is cached as a real run of `output` caches it.

    Raises:
        MercuryError: a run's instances cannot be loaded or its model is unknown.
    """
    storage = Storage(str(output))
    # a local folder as typed (a message naming where to place a file names the folder the user gave)
    cache_root = (Path(output) if storage.local_path() is not None else scenario_cache_root(storage)) / "scenarios"
    return [_dry_run_one(run_spec, cache_root) for run_spec in run_specs]


def _dry_run_one(run_spec: RunSpec, cache_root: Path) -> RunResult:
    timings = RunTimings()
    started = time.perf_counter()
    _, instances = load_instances(run_spec, cache_root)
    timings.instances = time.perf_counter() - started

    started = time.perf_counter()
    request_states = adapt(run_spec, instances)
    timings.adaptation = time.perf_counter() - started

    started = time.perf_counter()
    metrics, context = create_metrics([DRY_RUN_METRIC]), metric_context(run_spec)
    stats = StatsAccumulator().add(score_instances(metrics, request_states, context)).finalize(metrics, context)
    timings.metrics = time.perf_counter() - started
    return RunResult(
        run_spec=run_spec,
        stats=stats,
        num_instances=len({(s.instance.id, s.instance.perturbation) for s in request_states}),
        num_requests=len(request_states),
        num_failed_requests=0,
        output_dir=None,
        timings=timings,
    )
