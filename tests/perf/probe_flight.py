"""How many requests a shard task really keeps in flight through the proxy, and where a run's time goes.

    .venv/bin/python tests/perf/probe_flight.py                      # 500 requests, -n 4 --batch-size 8, 2 runs
    .venv/bin/python tests/perf/probe_flight.py --shapes 4x8,32x1    # parallelism x batch size
    .venv/bin/python tests/perf/probe_flight.py --batched            # also lock-step batches (no streaming)
    .venv/bin/python tests/perf/probe_flight.py --replicas 2         # two replicas of the fake model's provider
    .venv/bin/python tests/perf/probe_flight.py --batched --jitter   # answers after random times (mean 100 ms)

Starts a local Ray (2 CPUs), the fake OpenAI-compatible server in this process (100 ms per answer) and the proxy
app, then runs `simple1:num_test_instances=N` on its model through `Runner` on `RayExecution` (one shard, as
bench_cli.py's
"500 requests, 32 in flight" workload) and prints, per run: the wall time, the execution phase, the span of
the requests at the server (first arrival to last answer), the requests in flight there (mean over that span and
the most at once, counted by the server), the task's idle head and tail around it, and the CPU milliseconds per
request of each process (by its title: the provider replica, the ingress, the cache actor, the task's worker,
...). Each run another vocabulary, so the proxy's cache misses. Asserts nothing (noisy clocks).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parents[2]))

import bench
from bench.run_specs import expand_run_entry
from bench.runner import Runner
from cluster import ProxyHandleServiceFactory, RayExecution
from tests.perf.bench_cli import free_port, write_configs
from tests.serve.fake_openai import FakeOpenAI

LATENCY = 0.1


class JitteredOpenAI(FakeOpenAI):
    """The fake server, each answer after a random time of mean `LATENCY` (exponential: many quick, a few slow,
    as a hosted model's answers of different lengths) when `jitter` is set; else after `LATENCY`."""

    def __init__(self, jitter: bool) -> None:
        self.jitter = jitter
        self._random = random.Random(13)
        super().__init__(latency=LATENCY)

    @property  # type: ignore[override]
    def latency(self) -> float:
        return self._random.expovariate(1 / LATENCY) if self.jitter else LATENCY

    @latency.setter
    def latency(self, value: float) -> None:
        pass


@dataclass(frozen=True)
class BatchedOnly:
    """A service factory whose services answer whole calls only: the executor's lock-step batches, for
    comparison with the sliding window it gives a streaming service."""

    factory: Callable[[], Any]

    def __call__(self) -> Any:
        service = self.factory()

        class Batched:
            make_requests = service.make_requests
            get_model_tokenizer = service.get_model_tokenizer
            get_deployment = service.get_deployment

        return Batched()


def process_cpu() -> dict[str, float]:
    """CPU seconds so far of this process and its descendants (Ray's processes), by process title."""
    import psutil

    me = psutil.Process()
    totals: dict[str, float] = {}
    for process in [me, *me.children(recursive=True)]:
        try:
            title = " ".join(process.cmdline())[:60] if process.pid != me.pid else "driver"
            times = process.cpu_times()
        except psutil.Error:
            continue
        name = title.split(" ")[0]
        totals[name] = totals.get(name, 0.0) + times.user + times.system
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--runs", type=int, default=2, help="runs per shape (each uncached)")
    parser.add_argument("--shapes", default="4x8", help="parallelism x batch size, comma-separated")
    parser.add_argument("--batched", action="store_true", help="also without streaming (lock-step batches)")
    parser.add_argument("--jitter", action="store_true", help="answers after exponential times of mean 100 ms")
    parser.add_argument("--replicas", type=int, default=1, help="replicas of the fake model's provider deployment")
    args = parser.parse_args()
    shapes = [tuple(int(x) for x in s.split("x")) for s in args.shapes.split(",")]

    import ray

    bench.load_builtins()

    from jobs._proxy import ensure_benchmark_account, ensure_proxy_app
    from serve import APP_NAME

    with tempfile.TemporaryDirectory() as tmp, JitteredOpenAI(args.jitter) as fake:
        write_configs(Path(tmp) / "configs", fake.base_url)
        if args.replicas != 1:  # the fake model's `serving:` block
            configs = Path(tmp) / "configs" / "model_deployments.yaml"
            entries = yaml.safe_load(configs.read_text())
            scaling = {"min_replicas": args.replicas, "max_replicas": args.replicas}
            entries["model_deployments"][1]["serving"] = {"autoscaling": scaling}
            configs.write_text(yaml.safe_dump(entries))
        os.environ["MERCURY_CONFIG_DIR"] = f"{tmp}/configs"  # before Ray starts: its workers inherit it
        base_path = Path(tmp) / "prod_env"
        ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
        ensure_proxy_app(base_path, free_port(), APP_NAME)
        factory = ProxyHandleServiceFactory(api_key=ensure_benchmark_account(base_path), app_name=APP_NAME)
        salt = iter(range(6, 100))

        def run(parallelism: int, batch_size: int, size: int, batched: bool = False) -> None:
            entry = f"simple1:num_test_instances={size},vocab_size={next(salt)},model=openai/fake"
            (run_spec,) = expand_run_entry(entry)
            fake.reset_counts()
            first = len(fake.requests)
            with tempfile.TemporaryDirectory() as out:
                service = BatchedOnly(factory) if batched else factory
                execution = RayExecution(service, task_cpus=0.2)
                runner = Runner(execution, out, "probe", shard_size=size, parallelism=parallelism,
                                batch_size=batch_size)  # fmt: skip
                cpu_before = process_cpu()
                started = time.monotonic()
                result = runner.run_one(run_spec)
                wall = time.monotonic() - started
                cpu = {k: v - cpu_before.get(k, 0.0) for k, v in process_cpu().items()}
            arrivals = sorted(r.at for r in fake.requests[first:])
            span = arrivals[-1] + LATENCY - arrivals[0]
            mean = len(arrivals) * LATENCY / span
            execution = result.timings.execution
            shape = f"{parallelism}x{batch_size}{' batched' if batched else ''}"
            print(f"  {shape}: wall {wall:5.2f}s  execution {execution:5.2f}s  requests' span "
                  f"{span:5.2f}s (floor {size / (parallelism * batch_size) * LATENCY:.2f}s)  in flight: mean "
                  f"{mean:4.1f}, most {fake.max_in_flight}  head {arrivals[0] - started:4.2f}s  tail "
                  f"{started + wall - arrivals[-1] - LATENCY:4.2f}s  failed {result.num_failed_requests}",
                  flush=True)  # fmt: skip
            busy = sorted(((seconds, name) for name, seconds in cpu.items() if seconds > 0.05), reverse=True)
            print("      CPU ms per request: " + ", ".join(f"{n[-40:]} {s / size * 1000:.1f}" for s, n in busy))

        run(4, 8, 64)  # the task's worker and the proxy's connections warm, as on a cluster in use
        for parallelism, batch_size in shapes:
            for _ in range(args.runs):
                run(parallelism, batch_size, args.requests)
                if args.batched:
                    run(parallelism, batch_size, args.requests, batched=True)
        ray.shutdown()


if __name__ == "__main__":
    main()
