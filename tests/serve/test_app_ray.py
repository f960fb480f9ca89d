"""The proxy as a Ray Serve app (one Ray + Serve per session): HTTP through the ingress, provider deployments
with two replicas sharing the rate-limiter actor, and state that survives a restart of the app."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from serve import Accounts, ProxyAppConfig
from tests.serve.conftest import write_deployments
from tests.serve.fake_openai import FakeOpenAI

APP = "proxy-test"


@dataclass
class RayProxy:
    url: str
    admin_key: str
    config: ProxyAppConfig
    fake: FakeOpenAI

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(self.url + path, json={"auth": {"api_key": self.admin_key}, **body}, timeout=60)


def deploy(config: ProxyAppConfig) -> None:
    from ray import serve

    from serve._app import build_app

    serve.run(build_app(config), name=APP, route_prefix="/")


@pytest.fixture(scope="module")
def ray_proxy(ray_serve_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayProxy]:
    from ray import serve

    folder = tmp_path_factory.mktemp("ray_proxy")
    with FakeOpenAI() as fake:
        deployments = write_deployments(folder, fake.base_url, openai_replicas=2)
        config = ProxyAppConfig(base_path=str(folder / "prod_env"), deployments_file=str(deployments))
        key = Accounts(config.base_path).ensure_admin()
        assert key is not None
        deploy(config)
        yield RayProxy(f"http://127.0.0.1:{ray_serve_port}", key, config, fake)
        serve.delete(APP)


def test_request_and_cache_through_the_app(ray_proxy: RayProxy) -> None:
    body = {"request": {"model": "simple/model1", "prompt": "the cat sat", "max_tokens": 2, "temperature": 0}}
    first = ray_proxy.post("/api/request", body).json()
    again = ray_proxy.post("/api/request", body).json()
    assert first["completions"][0]["text"] == " sat\n" and not first["cached"] and again["cached"]
    unknown = ray_proxy.post("/api/request", {"request": {"model": "no/model"}})
    assert unknown.status_code == 404


def test_openai_client_and_batch_endpoint_through_the_app(ray_proxy: RayProxy) -> None:
    sdk = openai.OpenAI(base_url=ray_proxy.url + "/v1", api_key=ray_proxy.admin_key, max_retries=0)
    answer = sdk.completions.create(model="openai/fake", prompt="Q", max_tokens=2, temperature=0)
    assert answer.choices[0].text == " Paris is"
    requests = [{"model": "simple/model1", "prompt": f"x y{i}", "max_tokens": 2} for i in range(20)]
    results = ray_proxy.post("/api/requests", {"requests": requests}).json()["results"]
    assert [r["completions"][0]["text"].split()[0] for r in results] == [f"y{i}" for i in range(20)]


def test_rate_limit_is_shared_by_two_replicas(ray_proxy: RayProxy) -> None:
    from ray import serve

    replicas = serve.status().applications[APP].deployments["provider-openai"].replica_states
    assert replicas.get("RUNNING") == 2

    async def burst() -> list[int]:
        async with httpx.AsyncClient(timeout=60) as client:
            bodies = [
                {"auth": {"api_key": ray_proxy.admin_key}, "request": {"model": "openai/limited", "prompt": f"r{i}"}}
                for i in range(6)
            ]
            answers = await asyncio.gather(*(client.post(ray_proxy.url + "/api/request", json=b) for b in bodies))
            return sorted(a.status_code for a in answers)

    # a burst of 1 of the 2 requests a minute, whichever replica gets them: per-replica limiters would allow 2
    assert asyncio.run(burst()) == [200, 429, 429, 429, 429, 429]


def test_state_survives_a_restart_of_the_app(ray_proxy: RayProxy) -> None:
    import ray
    from ray import serve

    from serve._remote import ACTOR_NAMESPACE, actor_name

    body = {"request": {"model": "simple/model1", "prompt": "before restart", "max_tokens": 1}}
    assert not ray_proxy.post("/api/request", body).json()["cached"]
    used = ray_proxy.post("/api/request", body).json()
    serve.delete(APP)
    for kind, key in (("accounts", "all"), ("cache", "simple"), ("cache", "openai"), ("limits", "openai")):
        name = actor_name(kind, key, ray_proxy.config.base_path)
        try:
            actor = ray.get_actor(name, namespace=ACTOR_NAMESPACE)
        except ValueError:  # made at a provider's first request: never asked, never made
            continue
        ray.kill(actor)
    deploy(ray_proxy.config)
    after = ray_proxy.post("/api/request", body).json()
    assert after["cached"] and after["completions"] == used["completions"]
    account = httpx.get(ray_proxy.url + "/api/account", headers={"Authorization": f"Bearer {ray_proxy.admin_key}"})
    assert account.json()["usages"]["simple"]["total"]["used"] > 0
    assert Path(ray_proxy.config.cache_folder(), "simple.sqlite").is_file()


def test_a_shard_tasks_window_keeps_its_requests_in_flight_at_the_server(ray_proxy: RayProxy) -> None:
    """benchmark-run's path (the executor over the ingress's handle, answers streamed): parallelism x batch size
    requests really are at the server at once, and every answer comes back in order."""
    from bench import Instance, Request
    from bench.adaptation import RequestState
    from bench.runner import RequestSender
    from cluster._service import ProxyHandleService

    service = ProxyHandleService(APP, ray_proxy.admin_key, ray_proxy.config.deployments_file)
    prompts = [f"in flight {k}" for k in range(16)]
    states = [
        RequestState(
            instance=Instance(input=p, id=f"id{k}"), request=Request(model="openai/fake", prompt=p, max_tokens=2)
        )
        for k, p in enumerate(prompts)
    ]
    ray_proxy.fake.latency = 1.0  # long enough for every call of the window to reach the server meanwhile
    ray_proxy.fake.reset_counts()
    try:
        done = RequestSender(service, parallelism=2, batch_size=4).execute(states)
    finally:
        ray_proxy.fake.latency = 0.0
    assert [s.request.prompt for s in done] == prompts
    assert all(s.result is not None and s.result.success for s in done)
    assert ray_proxy.fake.max_in_flight == 8
