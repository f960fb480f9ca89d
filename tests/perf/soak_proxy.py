"""Soak test of the proxy on Ray Serve: mixed traffic from many clients for a bounded time (not in the default suite).

    .venv/bin/python tests/perf/soak_proxy.py                     # 3 minutes, 32 clients (~4 min in all)
    .venv/bin/python tests/perf/soak_proxy.py --seconds 30        # a short run

Each client loops over a mix: valid uncached requests (a fresh `random`), cached ones, requests to a hosted model
(a fake OpenAI-compatible server in its own process), streamed /v1 completions and chats, invalid ones (over a
limit, wrong types, not JSON, deeply nested, oversized), an unknown route, and requests of an account whose quota
runs out early. It prints requests served, answers by status and kind, and the proxy's peak memory (the resident
memory of its replicas and actors, sampled every second), and exits non-zero if any answer was a 500, a valid
request failed, or the peak memory passed `--max-memory-mib`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
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
import psutil  # noqa: E402
import yaml  # noqa: E402

import bench  # noqa: E402
from serve import Accounts, ProxyAppConfig, RequestLimits  # noqa: E402
from tests.serve.fake_openai import fake_openai_process  # noqa: E402

APP = "soak-proxy"
PROXY_ACTORS = ("Accounts", "SharedCache", "RateLimiters")


def deployments_file(folder: Path, base_url: str) -> Path:
    entries: list[dict[str, Any]] = [
        {"name": "simple/model1", "client": "simple", "tokenizer": "openai/r50k_base", "context_window": 2048},
        {
            "name": "openai/fake",
            "client": "openai",
            "tokenizer": "openai/r50k_base",
            "context_window": 2048,
            "client_args": {"base_url": base_url, "credential": None, "model": "davinci"},
            "serving": {"requests_per_minute": 6000, "max_queue_wait_seconds": 5},
        },
    ]
    path = folder / "model_deployments.yaml"
    path.write_text(yaml.safe_dump({"model_deployments": entries}))
    return path


def _simple(tag: str, max_tokens: int = 5) -> dict[str, Any]:
    return {"model": "simple/model1", "prompt": f"the quick brown fox {tag}", "max_tokens": max_tokens}


def traffic(admin: str, poor: str) -> list[tuple[str, str, str, dict[str, Any] | bytes | None, str, set[int]]]:
    """(kind, method, path, body, key, acceptable statuses) of one round of a client's mix."""
    fresh = f"{random.random()}"
    return [
        ("uncached", "POST", "/api/request", {"request": {**_simple("x"), "random": fresh}}, admin, {200}),
        ("cached", "POST", "/api/request", {"request": _simple("cached")}, admin, {200}),
        ("batch", "POST", "/api/requests", {"requests": [_simple(str(i)) for i in range(20)]}, admin, {200}),
        ("hosted", "POST", "/v1/completions", {"model": "openai/fake", "prompt": fresh, "max_tokens": 3}, admin, {200}),
        ("stream", "POST", "/v1/completions", {**_simple(fresh), "stream": True}, admin, {200}),
        (
            "stream",
            "POST",
            "/v1/chat/completions",
            {"model": "simple/model1", "messages": [{"role": "user", "content": fresh}], "stream": True},
            admin,
            {200},
        ),
        ("invalid", "POST", "/api/request", {"request": {**_simple("x"), "max_tokens": 10**9}}, admin, {400}),
        ("invalid", "POST", "/v1/completions", {"model": "simple/model1", "n": "many"}, admin, {400}),
        ("invalid", "POST", "/api/request", b"{not json", admin, {400}),
        ("invalid", "POST", "/api/request", b"[" * 50_000 + b"]" * 50_000, admin, {400}),
        ("invalid", "POST", "/api/request", b'{"p": "' + b"x" * (4 * 1024 * 1024) + b'"}', admin, {413}),
        ("invalid", "POST", "/api/decode", {"request": {"model": "simple/model1", "token_ids": [-1]}}, admin, {400}),
        ("invalid", "GET", "/v1/nothing", None, admin, {404}),
        ("over-quota", "POST", "/api/request", {"request": {**_simple("q"), "random": fresh}}, poor, {200, 429}),
    ]


async def client_loop(url: str, admin: str, poor: str, until: float, counts: Counter[str], bad: list[str]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        while time.monotonic() < until:
            for kind, method, path, body, key, ok in traffic(admin, poor):
                headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
                content = body if isinstance(body, bytes) else None if body is None else _json(body)
                async with http.stream(method, path, headers=headers, content=content) as answer:
                    text = (await answer.aread()).decode(errors="replace")
                counts[f"{kind} {answer.status_code}"] += 1
                if answer.status_code == 500 or answer.status_code not in ok:
                    bad.append(f"{kind} {method} {path}: {answer.status_code} {text[:200]}")
                if time.monotonic() >= until:
                    return


def _json(body: dict[str, Any]) -> bytes:
    import json

    return json.dumps(body).encode()


def proxy_memory() -> int:
    """The summed resident memory of the app's replicas and of its shared actors: the Ray workers this process
    started (through its raylet) whose title names them, so other Ray instances on the machine do not count."""
    total = 0
    for process in psutil.Process(os.getpid()).children(recursive=True):
        try:
            title = " ".join(process.cmdline()[:1]) or process.name()
            if title.startswith("ray::") and (APP in title or any(name in title for name in PROXY_ACTORS)):
                total += process.memory_info().rss
        except psutil.Error:  # ended meanwhile
            continue
    return total


def sample_memory(stop: threading.Event, peaks: list[int]) -> None:
    """Every second, the proxy's memory; the samples are kept."""
    while not stop.wait(1.0):
        peaks.append(proxy_memory())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=180.0, help="how long the clients send traffic")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--max-memory-mib", type=float, default=2048.0, help="bound on the proxy's peak memory")
    args = parser.parse_args()
    bench.load_builtins()
    import ray
    from ray import serve

    from serve._app import build_app

    with tempfile.TemporaryDirectory() as tmp, fake_openai_process() as base_url:
        config = ProxyAppConfig(
            base_path=f"{tmp}/prod_env",
            deployments_file=str(deployments_file(Path(tmp), base_url)),
            limits=RequestLimits(max_body_bytes=1024 * 1024),  # the 4 MiB bodies of the mix are over it
        )
        accounts = Accounts(config.base_path)
        admin = accounts.ensure_admin()
        assert admin is not None
        poor = accounts.create_local_account("over quota").api_key
        port = _free_port()
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        serve.start(http_options={"host": "127.0.0.1", "port": port})
        serve.run(build_app(config), name=APP, route_prefix="/")
        url = f"http://127.0.0.1:{port}"
        quota = {"account": {"api_key": poor, "quotas": {"simple": {"total": 200}}}}
        assert (
            httpx.put(url + "/api/account", json=quota, headers={"Authorization": f"Bearer {admin}"}).status_code == 200
        )
        counts: Counter[str] = Counter()
        bad: list[str] = []
        peaks: list[int] = []
        stop = threading.Event()
        sampler = threading.Thread(target=sample_memory, args=(stop, peaks), daemon=True)
        try:
            sampler.start()
            started = time.monotonic()
            until = started + args.seconds

            async def run() -> None:
                await asyncio.gather(*(client_loop(url, admin, poor, until, counts, bad) for _ in range(args.clients)))

            asyncio.run(run())
            elapsed = time.monotonic() - started
        finally:
            stop.set()
            sampler.join(5)
            serve.shutdown()
            ray.shutdown()
    served = sum(counts.values())
    peak_mib = max(peaks, default=0) / 2**20
    print(f"{served} requests served in {elapsed:.0f} s by {args.clients} clients ({served / elapsed:.1f}/s)")
    by_status: Counter[str] = Counter()
    for key, n in counts.items():
        by_status[key.rsplit(" ", 1)[1]] += n
    print("answers by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items())))
    print("answers by kind:   " + ", ".join(f"{k}: {n}" for k, n in sorted(counts.items())))
    print(f"proxy peak memory: {peak_mib:.0f} MiB (bound {args.max_memory_mib:.0f} MiB), {len(peaks)} samples")
    for line in bad[:20]:
        print("UNEXPECTED", line)
    failed = bool(bad) or peak_mib > args.max_memory_mib or counts.get("over-quota 429", 0) == 0
    print("FAILED" if failed else "OK")
    return 1 if failed else 0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


if __name__ == "__main__":
    sys.exit(main())
