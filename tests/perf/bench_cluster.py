"""Benchmark of the sharded Ray executor against bench's in-process Runner; prints figures, asserts nothing.

    .venv/bin/python tests/perf/bench_cluster.py            # 2,000 instances timed, memory at 2,000 and 20,000
    .venv/bin/python tests/perf/bench_cluster.py --quick    # 500 and 2,000 instances

1. Wall time and instances per second of a simple1 run on simple/model1 through `RayRunner` (a local Ray,
   2 CPUs, default shards) and through `Runner` in the same process (the baseline). Ray's start is not counted.
2. Peak memory of the driver's Python heap (tracemalloc) during a run, for both, at two sizes: the Ray
   driver keeps only shard summaries, the in-process Runner holds every result.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[2]))

import bench
from bench.models import InProcessService
from bench.run_specs import RunSpec, expand_run_entry
from bench.runner import Runner
from cluster import InProcessServiceFactory, RayRunner


def spec(num_instances: int) -> RunSpec:
    [run_spec] = expand_run_entry(f"simple1:num_test_instances={num_instances},model=simple/model1")
    return run_spec


def ray_run(run_spec: RunSpec, output: str) -> object:
    return RayRunner(InProcessServiceFactory(), output, "perf").run_one(run_spec)


def local_run(run_spec: RunSpec, output: str) -> object:
    return Runner(InProcessService(), output, "perf").run_one(run_spec)


def timed(run: Callable[[RunSpec, str], object], run_spec: RunSpec) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        run(run_spec, tmp)
        return time.perf_counter() - started


def peak_memory(run: Callable[[RunSpec, str], object], run_spec: RunSpec) -> float:
    """Peak MiB of Python allocations on the driver during the run."""
    with tempfile.TemporaryDirectory() as tmp:
        tracemalloc.start()
        try:
            run(run_spec, tmp)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    args = parser.parse_args()
    timed_size, memory_sizes = (500, (500, 2000)) if args.quick else (2000, (2000, 20000))
    logging.basicConfig(level=logging.WARNING)
    os.environ.update(RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0", RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
    import ray

    bench.load_builtins()
    started = time.perf_counter()
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    print(f"ray.init: {time.perf_counter() - started:.1f}s (not counted below)")

    warm = spec(50)
    timed(ray_run, warm)  # start the worker processes once, as a long job would have them
    run_spec = spec(timed_size)
    print(f"\n== wall time, simple1 on simple/model1, {timed_size} instances (2 CPUs, default shards)")
    print(f"{'executor':28} {'seconds':>8} {'instances/s':>12}")
    for name, run in (("RayRunner (sharded tasks)", ray_run), ("Runner (in-process)", local_run)):
        seconds = timed(run, run_spec)
        print(f"{name:28} {seconds:8.2f} {timed_size / seconds:12.0f}")

    print("\n== peak driver memory (Python heap, tracemalloc) during a run")
    print(f"{'instances':>9} {'RayRunner MiB':>14} {'Runner MiB':>11}")
    for size in memory_sizes:
        sized = spec(size)
        print(f"{size:9} {peak_memory(ray_run, sized):14.1f} {peak_memory(local_run, sized):11.1f}")
    ray.shutdown()


if __name__ == "__main__":
    main()
