"""Benchmark of the proxy on Ray Serve against simple/model1; prints figures, asserts nothing (noisy clocks).

    .venv/bin/python tests/perf/bench_proxy.py                  # all figures (~1-2 min on 2 cores)
    .venv/bin/python tests/perf/bench_proxy.py --requests 100   # fewer requests

1. Latency of one request (p50, p99; each uncached: a fresh `random`) through the proxy on Ray Serve, next to
   a plain HTTP server in the same run: the same FastAPI app over the same services in one uvicorn process,
   without Ray (so the difference is what Ray Serve, the handles and the actors cost).
2. Throughput with 32 concurrent clients (uncached requests), for both.
3. Throughput of cache hits through the batch endpoint (/api/requests, 500 per call). Goal: >= 2,000/s.
The client runs in this process and shares the 2 cores with the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[2]))

for _name, _value in {
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
}.items():
    os.environ.setdefault(_name, _value)

import httpx  # noqa: E402  (after the environment above: Ray reads it)

import bench  # noqa: E402
from serve import Accounts, ProxyAppConfig  # noqa: E402

MODEL = "simple/model1"
BATCH = 500


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def request_body(key: str, index: int, tag: str) -> dict[str, Any]:
    return {
        "auth": {"api_key": key},
        "request": {"model": MODEL, "prompt": f"The quick brown fox {index}", "max_tokens": 5, "random": tag},
    }


def _plain_server(config: dict[str, Any], port: int) -> None:
    import uvicorn

    from serve import local_service
    from serve._http import build_http_app

    bench.load_builtins()
    app = build_http_app(local_service(ProxyAppConfig.model_validate(config)))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def wait_up(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/general_info", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def latency(url: str, key: str, n: int, tag: str) -> tuple[float, float]:
    """p50 and p99 in milliseconds of `n` sequential uncached requests."""
    times = []
    with httpx.Client(timeout=60) as client:
        client.post(url + "/api/request", json=request_body(key, -1, tag))  # warm up
        for i in range(n):
            started = time.perf_counter()
            answer = client.post(url + "/api/request", json=request_body(key, i, tag))
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200 and not answer.json()["cached"], answer.text
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


async def _concurrent(url: str, key: str, n: int, clients: int, tag: str) -> float:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                answer = await client.post(url + "/api/request", json=request_body(key, i, tag))
                assert answer.status_code == 200, answer.text

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return n / (time.perf_counter() - started)


def throughput(url: str, key: str, n: int, clients: int, tag: str) -> float:
    """Requests per second of `n` uncached requests from `clients` concurrent clients."""
    return asyncio.run(_concurrent(url, key, n, clients, tag))


def batch_hits(url: str, key: str, n: int, rounds: int) -> list[float]:
    """Cached requests per second through the batch endpoint, per round (after one priming round)."""
    requests = [request_body(key, i, "batch")["request"] for i in range(n)]
    rates = []
    with httpx.Client(timeout=120, headers={"Authorization": f"Bearer {key}"}) as client:
        for round_ in range(rounds + 1):
            started = time.perf_counter()
            for start in range(0, n, BATCH):
                answer = client.post(url + "/api/requests", json={"requests": requests[start : start + BATCH]})
                results = answer.json()["results"]
                assert round_ == 0 or all(r["cached"] for r in results)
            if round_ > 0:
                rates.append(n / (time.perf_counter() - started))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=300, help="requests per latency / throughput figure")
    parser.add_argument("--batch-requests", type=int, default=4000, help="cached requests per batch round")
    args = parser.parse_args()
    bench.load_builtins()
    import ray
    from ray import serve

    from serve._app import build_app

    with tempfile.TemporaryDirectory() as tmp:
        proxy_config = ProxyAppConfig(base_path=f"{tmp}/ray_env", models=[MODEL])
        plain_config = ProxyAppConfig(base_path=f"{tmp}/plain_env", models=[MODEL])
        keys = [Accounts(c.base_path).ensure_admin() for c in (proxy_config, plain_config)]
        ray_port, plain_port = free_port(), free_port()
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        serve.start(http_options={"host": "127.0.0.1", "port": ray_port})
        serve.run(build_app(proxy_config), name="bench-proxy", route_prefix="/")
        plain = multiprocessing.get_context("spawn").Process(
            target=_plain_server, args=(plain_config.model_dump(), plain_port), daemon=True
        )
        plain.start()
        urls = {"proxy (Ray Serve)": f"http://127.0.0.1:{ray_port}", "plain uvicorn": f"http://127.0.0.1:{plain_port}"}
        try:
            for url in urls.values():
                wait_up(url)
            print(f"cores: {os.cpu_count()}, model {MODEL}, {args.requests} requests per figure")
            for (name, url), key in zip(urls.items(), keys):
                assert key is not None
                p50, p99 = latency(url, key, args.requests, tag=f"lat-{time.time()}")
                rate = throughput(url, key, args.requests, 32, tag=f"thr-{time.time()}")
                print(f"{name:18s} latency p50 {p50:6.1f} ms  p99 {p99:6.1f} ms   32 clients: {rate:7.1f} req/s")
            proxy_key = keys[0]
            assert proxy_key is not None
            rates = batch_hits(urls["proxy (Ray Serve)"], proxy_key, args.batch_requests, rounds=3)
            print(
                f"batch endpoint, cache hits ({BATCH}/call): "
                + ", ".join(f"{r:.0f}" for r in rates)
                + f" req/s (best {max(rates):.0f}; goal 2000)"
            )
        finally:
            plain.terminate()
            serve.shutdown()
            ray.shutdown()


if __name__ == "__main__":
    main()
