"""A client registered by a plug-in module (a file of the working folder, not installed) answers through the
proxy app on Ray: `ProxyAppConfig.plugins` ships the module to the replicas, which import it before they build
their clients."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
import yaml

import bench
from serve import Accounts, ProxyAppConfig

APP = "plugin-proxy-test"
ROUTE = "/plugin-test"

CLIENT_MODULE = """
from bench import GeneratedOutput, RequestResult
from bench.models import ModelClient, client


class Shouting(ModelClient):
    def __init__(self, deployment):
        self.deployment = deployment

    def make_request(self, request):
        return RequestResult(success=True, completions=(GeneratedOutput(text=request.prompt.upper(), logprob=0.0),))


@client("demo_shouting")
def shouting(deployment):
    return Shouting(deployment)
"""


@pytest.mark.usefixtures("restore_registries")
def test_a_plugin_client_answers_through_the_proxy_on_ray(
    ray_serve_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ray import serve

    from serve._app import build_app

    work = tmp_path / "work"
    work.mkdir()
    (work / "demo_shouting_client.py").write_text(CLIENT_MODULE)
    monkeypatch.chdir(work)
    monkeypatch.setattr(sys, "path", list(sys.path))
    deployments = tmp_path / "model_deployments.yaml"
    model = {"name": "demo/shouting", "client": "demo_shouting", "tokenizer": "openai/r50k_base"}
    model["context_window"] = 2048
    deployments.write_text(yaml.safe_dump({"model_deployments": [model]}))
    config = ProxyAppConfig(
        base_path=str(tmp_path / "prod_env"), deployments_file=str(deployments), plugins=["demo_shouting_client"]
    )
    key = Accounts(config.base_path).ensure_admin()
    try:
        bench.load_plugins(config.plugins)  # as proxy-server does before it builds the app
        serve.run(build_app(config), name=APP, route_prefix=ROUTE)
        request = {"model": "demo/shouting", "prompt": "the cat sat", "max_tokens": 5}
        body = {"auth": {"api_key": key}, "request": request}
        answer = httpx.post(f"http://127.0.0.1:{ray_serve_port}{ROUTE}/api/request", json=body, timeout=60)
        assert answer.status_code == 200, answer.text
        assert answer.json()["completions"][0]["text"] == "THE CAT SAT"
    finally:
        serve.delete(APP)
        sys.modules.pop("demo_shouting_client", None)
