"""Fixtures of the proxy's tests: a deployments file around the fake OpenAI server, the proxy served by
uvicorn on loopback (in-process services). One Ray + Serve per session (`ray_serve_port`) is in tests/conftest.py:
the benchmark-run tests deploy the proxy on it too."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

for _name, _value in {
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
}.items():
    os.environ.setdefault(_name, _value)

from serve import Accounts, ProxyAppConfig, local_service  # noqa: E402
from serve._http import build_http_app  # noqa: E402
from tests.serve.fake_openai import FakeOpenAI  # noqa: E402

FAST_RETRY = {"max_attempts": 3, "initial_backoff_seconds": 0.0, "max_backoff_seconds": 0.0}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_deployments(folder: Path, base_url: str, openai_replicas: int = 1) -> Path:
    """simple/model1 (deterministic), openai/fake (the fake server), openai/limited (2 requests a minute)."""
    entries: list[dict[str, Any]] = [
        {
            "name": "simple/model1",
            "client": "simple",
            "tokenizer": "openai/r50k_base",
            "context_window": 2048,
            # on Ray its requests go through @serve.batch, as the local model's do
            "serving": {"batching": {"max_batch_size": 8, "batch_wait_timeout_s": 0.01}},
        },
        {
            "name": "openai/fake",
            "client": "openai",
            "tokenizer": "openai/r50k_base",
            "context_window": 2048,
            "client_args": {"base_url": base_url, "credential": None, "model": "davinci"},
            "serving": {
                "retry": FAST_RETRY,
                "autoscaling": {"min_replicas": openai_replicas, "max_replicas": openai_replicas},
            },
        },
        {
            "name": "openai/limited",
            "client": "openai",
            "tokenizer": "openai/r50k_base",
            "context_window": 2048,
            "client_args": {"base_url": base_url, "credential": None, "model": "davinci"},
            "serving": {"requests_per_minute": 2, "max_queue_wait_seconds": 0, "retry": FAST_RETRY},
        },
        {
            "name": "openai/chatty",
            "client": "openai",
            "tokenizer": "openai/r50k_base",
            "context_window": 2048,
            "client_args": {"base_url": base_url, "credential": None, "model": "gpt", "api": "chat"},
            "serving": {"retry": FAST_RETRY},
        },
    ]
    path = folder / "model_deployments.yaml"
    path.write_text(yaml.safe_dump({"model_deployments": entries}))
    return path


@dataclass
class LiveProxy:
    """A proxy answering on `url`, its state folder and its admin key."""

    url: str
    admin_key: str
    base_path: Path
    fake: FakeOpenAI
    config: ProxyAppConfig


class _Uvicorn:
    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> _Uvicorn:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def proxy_config(tmp_path: Path, fake_openai: FakeOpenAI) -> ProxyAppConfig:
    deployments = write_deployments(tmp_path, fake_openai.base_url)
    return ProxyAppConfig(base_path=str(tmp_path / "prod_env"), deployments_file=str(deployments))


@pytest.fixture
def live_proxy(proxy_config: ProxyAppConfig, fake_openai: FakeOpenAI) -> Iterator[LiveProxy]:
    """The proxy's HTTP app over in-process services, served by uvicorn on 127.0.0.1."""
    admin = Accounts(proxy_config.base_path).ensure_admin()
    assert admin is not None
    with _Uvicorn(build_http_app(local_service(proxy_config))) as server:
        yield LiveProxy(
            f"http://127.0.0.1:{server.port}", admin, Path(proxy_config.base_path), fake_openai, proxy_config
        )


@pytest.fixture
def keyed_proxy(tmp_path: Path, fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A proxy whose deployments add `openai/needs-key`: the fake server, behind the default credential
    `openaiApiKey`, which neither the proxy's (empty) folder nor the environment holds."""
    deployments = write_deployments(tmp_path, fake_openai.base_url)
    data = yaml.safe_load(deployments.read_text())
    needs_key = {"name": "openai/needs-key", "client": "openai", "tokenizer": "openai/r50k_base",
                 "context_window": 2048, "client_args": {"base_url": fake_openai.base_url}}  # fmt: skip
    data["model_deployments"].append(needs_key)
    deployments.write_text(yaml.safe_dump(data))
    env = tmp_path / "prod_env"
    monkeypatch.setenv("MERCURY_PROD_ENV", str(env))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    config = ProxyAppConfig(base_path=str(env), deployments_file=str(deployments))
    Accounts(config.base_path).ensure_admin()
    with _Uvicorn(build_http_app(local_service(config))) as server:
        yield f"http://127.0.0.1:{server.port}"
