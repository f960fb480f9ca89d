"""Work for a client that disconnects is cancelled (issue 11, finding 3): a long request, here a provider call
retried against an upstream that keeps failing, stops reaching the upstream once its client has gone away, with
the app served by uvicorn and on Ray Serve. Without cancellation it would retry for two more minutes."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from serve import Accounts, ProxyAppConfig, local_service
from serve._cancellation import cancelled, run_cancellable, sleep_unless_cancelled
from serve._http import build_http_app
from tests.serve.conftest import _Uvicorn
from tests.serve.fake_openai import FakeOpenAI, Fault

RETRY_FOR_MINUTES = {
    "max_attempts": 10_000,
    "max_total_seconds": 120.0,
    "initial_backoff_seconds": 0.1,
    "max_backoff_seconds": 0.1,
    "request_timeout_seconds": 10.0,
}


def _config(folder: Path, fake: FakeOpenAI) -> ProxyAppConfig:
    entries: list[dict[str, Any]] = [
        {"name": "simple/model1", "client": "simple", "tokenizer": "openai/r50k_base", "context_window": 2048},
        {
            "name": "openai/retrying",
            "client": "openai",
            "tokenizer": "openai/r50k_base",
            "context_window": 2048,
            "client_args": {"base_url": fake.base_url, "credential": None, "model": "davinci"},
            "serving": {"retry": RETRY_FOR_MINUTES},
        },
    ]
    deployments = folder / "model_deployments.yaml"
    deployments.write_text(yaml.safe_dump({"model_deployments": entries}))
    return ProxyAppConfig(base_path=str(folder / "prod_env"), deployments_file=str(deployments))


def _abandon_a_long_request_and_watch_the_upstream(url: str, key: str, fake: FakeOpenAI) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    warm = {"model": "openai/retrying", "prompt": "warm", "max_tokens": 1}  # the client is built on first use
    assert httpx.post(url + "/v1/completions", json=warm, headers=headers, timeout=60).status_code == 200
    fake.fail_next(*[Fault(status=503, message="busy")] * 100_000)
    body = {"model": "openai/retrying", "prompt": "x", "max_tokens": 1}
    before = len(fake.requests)
    with pytest.raises(httpx.ReadTimeout):  # the client gives up after 2 s and closes its connection
        httpx.post(url + "/v1/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=2.0)
    reached = len(fake.requests) - before
    assert reached >= 3, reached  # the request was being retried while the client waited
    time.sleep(2.0)  # the disconnect is noticed, the attempt in flight ends
    settled = len(fake.requests) - before
    time.sleep(3.0)  # retrying every 0.1 s, an uncancelled request would make ~25 more attempts meanwhile
    assert len(fake.requests) - before == settled, (reached, settled, len(fake.requests) - before)
    fake.faults.clear()
    answer = httpx.post(url + "/v1/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert answer.status_code == 200, answer.text


def test_a_disconnected_request_stops_retrying_under_uvicorn(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    config = _config(tmp_path, fake_openai)
    admin = Accounts(config.base_path).ensure_admin()
    assert admin is not None
    with _Uvicorn(build_http_app(local_service(config))) as server:
        _abandon_a_long_request_and_watch_the_upstream(f"http://127.0.0.1:{server.port}", admin, fake_openai)


@pytest.fixture
def ray_app(ray_serve_port: int, tmp_path: Path, fake_openai: FakeOpenAI) -> Iterator[tuple[str, str]]:
    from ray import serve

    from serve._app import build_app

    config = _config(tmp_path, fake_openai)
    admin = Accounts(config.base_path).ensure_admin()
    assert admin is not None
    serve.run(build_app(config), name="proxy-cancel", route_prefix="/")
    yield f"http://127.0.0.1:{ray_serve_port}", admin
    serve.delete("proxy-cancel")


def test_a_disconnected_request_stops_retrying_on_ray_serve(ray_app: tuple[str, str], fake_openai: FakeOpenAI) -> None:
    url, admin = ray_app
    _abandon_a_long_request_and_watch_the_upstream(url, admin, fake_openai)


def test_run_cancellable_tells_the_thread() -> None:
    seen: list[bool] = []
    started = threading.Event()

    def work() -> None:
        started.set()
        sleep_unless_cancelled(60)  # returns as soon as the awaiting task is cancelled
        seen.append(cancelled())

    async def main() -> None:
        task = asyncio.ensure_future(run_cancellable(None, [work]))
        await asyncio.to_thread(started.wait, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    began = time.monotonic()
    asyncio.run(main())
    assert seen == [True] and time.monotonic() - began < 30
    assert not cancelled()  # outside the work: nothing is cancelled
