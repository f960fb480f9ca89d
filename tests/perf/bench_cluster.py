"""Benchmarks of benchmark-run's execution on Ray; prints figures, asserts nothing (noisy clocks).

    .venv/bin/python tests/perf/bench_cluster.py              # the proxy path (issue 4's figures), ~5 min
    .venv/bin/python tests/perf/bench_cluster.py --quick      # smaller runs
    .venv/bin/python tests/perf/bench_cluster.py --executors  # RayRunner --direct against the in-process Runner

The proxy path: the proxy app deployed on a local Ray (2 CPUs) from a temporary configs/ (MERCURY_CONFIG_DIR,
set before Ray starts so every worker and replica reads it) whose models are simple/model1 and two models on a
fake OpenAI-compatible server answering after 100 ms, in a process of its own as a real server would be:
`openai/limited` (1,200 requests per minute in the proxy) and `openai/free` (no limit). Shard tasks send
their requests through the ingress's DeploymentHandle.
1. 2,000 instances against the rate limit. The limiter's bucket starts empty (its one-minute burst is spent
   first, on the limiter actor), so the run can take no less than 2,000 / 20 per s = 100 s: prints the ratio
   of that bound to the wall time (goal >= 0.9).
2. The same run again, fully cached, three times: median wall time and instances per second (goal >= 1,000/s).
3. 500 instances on `openai/free` with 32 requests in flight: instances per second (goal >= 150), three
   uncached runs each (a `random` salt per run), median first, in two shapes: 32 calls of 1 request (4
   shards x 8 calls, the thread pool's shape) and 4 calls of 8 requests (4 shards x 1 call, benchmark-run's
   batched shape); next to a plain thread pool of 32 threads calling the `openai` client against the same
   server in this process (the issue's reference point), as ratios. Each run also prints the machine's busy
   CPU per request (all processes) and the seconds the hypervisor stole: on this VM a slow run is one where
   every process burns more CPU, not one where the code did more.
4. Peak driver memory (Python heap, tracemalloc) for 2,000 and 20,000 instances of simple/model1.
5. Wall time of `benchmark-run -r simple1 -m simple/model1 --max-eval-instances 10` from the command line,
   start-up (Ray, Serve, the app) included, next to `--direct`.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).parents[2]))

import bench
from bench.models import InProcessService
from bench.run_specs import RunSpec, expand_run_entry
from bench.runner import Runner
from cluster import InProcessServiceFactory, ProxyHandleServiceFactory, RayExecution
from jobs.benchmark_run import PROXY_BATCH_SIZE
from tests.serve.fake_openai import fake_openai_process

RATE = 1200  # requests per minute of openai/limited
LATENCY = 0.1


def spec(num_instances: int, model: str = "simple/model1") -> RunSpec:
    [run_spec] = expand_run_entry(f"simple1:num_test_instances={num_instances},model={model}")
    return run_spec


def salted(run_spec: RunSpec, salt: str) -> RunSpec:
    """The same run with its requests salted (`random`), so that none is in the proxy's cache."""
    return run_spec.model_copy(update={"adapter_spec": run_spec.adapter_spec.model_copy(update={"random": salt})})


def ray_run(run_spec: RunSpec, output: str) -> object:
    return Runner(RayExecution(InProcessServiceFactory()), output, "perf").run_one(run_spec)


def local_run(run_spec: RunSpec, output: str) -> object:
    return Runner.in_process(InProcessService(), output, "perf").run_one(run_spec)


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


def executors(args: argparse.Namespace) -> None:
    """The Runner on Ray (tasks call the model) against the in-process Runner: wall time and driver memory."""
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
    for name, run in (("Runner on Ray (tasks)", ray_run), ("Runner (in-process)", local_run)):
        seconds = timed(run, run_spec)
        print(f"{name:28} {seconds:8.2f} {timed_size / seconds:12.0f}")

    print("\n== peak driver memory (Python heap, tracemalloc) during a run")
    print(f"{'instances':>9} {'on Ray MiB':>14} {'Runner MiB':>11}")
    for size in memory_sizes:
        sized = spec(size)
        print(f"{size:9} {peak_memory(ray_run, sized):14.1f} {peak_memory(local_run, sized):11.1f}")
    ray.shutdown()


# --- the proxy path --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_configs(folder: Path, base_url: str) -> None:
    """simple/model1, and the fake server's model with and without a rate limit, in one provider."""
    fake: dict[str, Any] = {
        "client": "openai",
        "tokenizer": "openai/r50k_base",
        "context_window": 2048,
        "client_args": {"base_url": base_url, "credential": None, "model": "davinci"},
    }
    entries = [
        {"name": "simple/model1", "client": "simple", "tokenizer": "openai/r50k_base", "context_window": 2048},
        {**fake, "name": "openai/limited", "serving": {"requests_per_minute": RATE, "max_queue_wait_seconds": 600}},
        {**fake, "name": "openai/free"},
    ]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model_deployments.yaml").write_text(yaml.safe_dump({"model_deployments": entries}))


def drain_rate_limit(factory: ProxyHandleServiceFactory, base_path: Path) -> None:
    """Spend the limiter's one-minute burst, so that the next requests go at the steady rate only."""
    import ray

    from bench import Request
    from serve._remote import ACTOR_NAMESPACE, actor_name

    factory().make_requests([Request(model="openai/limited", prompt="make the limiter", max_tokens=1)])
    limiter = ray.get_actor(actor_name("limits", "openai", str(base_path)), namespace=ACTOR_NAMESPACE)
    ok, value = ray.get(limiter.call.remote("acquire", ("openai/limited", RATE, 0, 600.0), {}))
    assert ok, value


def proxy_run(factory: ProxyHandleServiceFactory, run_spec: RunSpec, **options: Any) -> tuple[float, Any]:
    options.setdefault("batch_size", PROXY_BATCH_SIZE)  # benchmark-run's default through the proxy
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = Runner(RayExecution(factory, task_cpus=0.2), tmp, "perf", **options).run_one(run_spec)
        return time.perf_counter() - started, result


def machine_cpu() -> tuple[float, float]:
    """Seconds of CPU the whole machine has been busy, and seconds stolen from it by the hypervisor.

    CPU per request tells a slow run on a busy or throttled VM (every process burns more) from a regression.
    """
    import psutil

    times = psutil.cpu_times()
    busy = times.user + times.nice + times.system + getattr(times, "irq", 0.0) + getattr(times, "softirq", 0.0)
    return busy, getattr(times, "steal", 0.0)


def thread_pool_rate(base_url: str, count: int, threads: int = 32) -> float:
    """Requests per second of a plain ThreadPoolExecutor calling the openai client, the issue's reference."""
    import openai

    client = openai.OpenAI(api_key="unused", base_url=base_url, max_retries=0)

    def one(index: int) -> None:
        client.completions.create(model="davinci", prompt=f"baseline request {index}", max_tokens=5, logprobs=1)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, range(threads)))  # connections and the client's first-use costs, not counted
        started = time.perf_counter()
        list(pool.map(one, range(count)))
        return count / (time.perf_counter() - started)


def cli_wall_time(extra: list[str], env: dict[str, str]) -> float:
    script = Path(sys.executable).parent / "benchmark-run"
    with tempfile.TemporaryDirectory() as tmp:
        command = [str(script), "-r", "simple1", "-m", "simple/model1", "--max-eval-instances", "10", "-o", tmp]
        started = time.perf_counter()
        subprocess.run([*command, *extra], env=env | {"MERCURY_PROD_ENV": f"{tmp}/prod_env"}, check=True,
                       capture_output=True)  # fmt: skip
        return time.perf_counter() - started


def proxy_path(args: argparse.Namespace) -> None:
    import ray

    from jobs._proxy import ensure_benchmark_account, ensure_proxy_app
    from serve import APP_NAME

    limited_size, free_size = (400, 200) if args.quick else (2000, 500)
    memory_sizes = (500, 2000) if args.quick else (2000, 20000)
    cli_env = dict(os.environ) | {"MERCURY_LOCAL_CLUSTER": "0"}  # each command its own Ray (bench_cli.py: the head)
    with tempfile.TemporaryDirectory() as tmp, fake_openai_process(latency=LATENCY) as base_url:
        write_configs(Path(tmp) / "configs", base_url)
        os.environ["MERCURY_CONFIG_DIR"] = f"{tmp}/configs"  # before Ray starts: its workers inherit it
        base_path = Path(tmp) / "prod_env"
        started = time.perf_counter()
        ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
        ensure_proxy_app(base_path, free_port(), APP_NAME)
        factory = ProxyHandleServiceFactory(api_key=ensure_benchmark_account(base_path), app_name=APP_NAME)
        print(f"Ray + Serve + proxy app: {time.perf_counter() - started:.1f}s (not counted below)")
        proxy_run(factory, spec(50))  # start the task workers once, as a long job would have them

        drain_rate_limit(factory, base_path)
        bound = limited_size / (RATE / 60)
        limited = spec(limited_size, "openai/limited")
        seconds, result = proxy_run(factory, limited)
        print(f"\n== {limited_size} instances, {RATE} requests/min in the proxy, {LATENCY * 1000:.0f} ms per request "
              f"(benchmark-run defaults: batches of {PROXY_BATCH_SIZE}, 4 per task, 0.2 CPU per task)")  # fmt: skip
        print(f"wall {seconds:.1f}s, bound {bound:.0f}s: ratio {bound / seconds:.2f} (goal >= 0.9); "
              f"failed {result.num_failed_requests}")  # fmt: skip
        cached = [proxy_run(factory, limited)[0] for _ in range(3)]
        seconds = statistics.median(cached)
        runs = ", ".join(f"{limited_size / run:.0f}" for run in cached)
        print(f"fully cached, 3 runs: median wall {seconds:.2f}s, {limited_size / seconds:.0f} instances/s "
              f"(runs: {runs}; goal >= 1000)")  # fmt: skip

        print(f"\n== {free_size} instances, no rate limit, 32 requests in flight, 3 uncached runs each (goal >= 150)")
        reference = thread_pool_rate(base_url, free_size)
        print(f"plain thread pool, 32 threads calling the openai client, same server: {reference:.0f} requests/s")
        shapes = {"32 calls of 1 request": (8, 1), "4 calls of 8 requests": (1, 8)}
        for number, (shape, (parallelism, batch_size)) in enumerate(shapes.items()):
            rates, costs = [], []
            for run in range(3):
                free = salted(spec(free_size, "openai/free"), f"{number}.{run}")
                before = machine_cpu()
                seconds, result = proxy_run(factory, free, num_shards=4, parallelism=parallelism, batch_size=batch_size)
                assert result.num_failed_requests == 0, result.num_failed_requests
                busy, steal = (after - start for after, start in zip(machine_cpu(), before))
                rates.append(free_size / seconds)
                costs.append(f"{free_size / seconds:.0f} ({busy / free_size * 1000:.1f} ms CPU, {steal:.1f}s stolen)")
            median = statistics.median(rates)
            print(f"{shape:22} median {median:4.0f} instances/s; / thread pool = {median / reference:.2f}")
            print(f"{'':22} runs: {'; '.join(costs)}")

        print("\n== peak driver memory (Python heap, tracemalloc), simple/model1 through the proxy")
        for size in memory_sizes:
            tracemalloc.start()
            try:
                seconds, _ = proxy_run(factory, spec(size))
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            print(f"{size:6} instances: {peak / 2**20:6.1f} MiB  ({seconds:.1f}s, {size / seconds:.0f} instances/s)")
        ray.shutdown()

    print("\n== benchmark-run -r simple1 -m simple/model1 --max-eval-instances 10, from the command line")
    for name, extra in (
        ("through the proxy (default)", ["--proxy-port", str(free_port())]),
        ("--direct", ["--direct"]),
    ):
        print(f"{name:28} {cli_wall_time(extra, cli_env):6.1f}s (start-up included)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller runs")
    parser.add_argument(
        "--executors", action="store_true", help="the Runner on Ray (--direct) against the in-process Runner"
    )
    args = parser.parse_args()
    os.environ.update(RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0", RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
    bench.load_builtins()
    if args.executors:
        executors(args)
    else:
        proxy_path(args)


if __name__ == "__main__":
    main()
