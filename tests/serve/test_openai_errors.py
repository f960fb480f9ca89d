"""/v1 answers every error with OpenAI's status and shape (issue 11, finding 5), so the real `openai` library
raises the exception it would raise against OpenAI; a bug is a 500 that says only "internal error" and an id."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from bench import Request
from serve import Accounts, ProxyAppConfig, local_service
from serve._http import build_http_app
from serve._provider_service import Answer
from tests.serve.conftest import LiveProxy, _Uvicorn
from tests.serve.fake_openai import FakeOpenAI, Fault

STRICT = {"max_attempts": 1, "request_timeout_seconds": 1.0, "initial_backoff_seconds": 0.0}


@pytest.fixture
def strict_proxy(tmp_path: Path, fake_openai: FakeOpenAI) -> Iterator[LiveProxy]:
    """openai/strict: the fake server, one attempt per request and a one-second timeout."""
    entries: list[dict[str, Any]] = [
        {"name": "simple/model1", "client": "simple", "tokenizer": "openai/r50k_base", "context_window": 2048},
        {
            "name": "openai/strict",
            "client": "openai",
            "tokenizer": "openai/r50k_base",
            "context_window": 2048,
            "client_args": {"base_url": fake_openai.base_url, "credential": None, "model": "davinci"},
            "serving": {"retry": STRICT},
        },
    ]
    deployments = tmp_path / "model_deployments.yaml"
    deployments.write_text(yaml.safe_dump({"model_deployments": entries}))
    config = ProxyAppConfig(base_path=str(tmp_path / "prod_env"), deployments_file=str(deployments))
    admin = Accounts(config.base_path).ensure_admin()
    assert admin is not None
    with _Uvicorn(build_http_app(local_service(config))) as server:
        yield LiveProxy(f"http://127.0.0.1:{server.port}", admin, Path(config.base_path), fake_openai, config)


def sdk(proxy: LiveProxy) -> openai.OpenAI:
    return openai.OpenAI(base_url=proxy.url + "/v1", api_key=proxy.admin_key, max_retries=0)


def test_an_upstream_429_is_a_429_with_its_retry_after(strict_proxy: LiveProxy) -> None:
    strict_proxy.fake.fail_next(Fault(status=429, retry_after="7", message="slow down"))
    with pytest.raises(openai.RateLimitError, match="slow down") as caught:
        sdk(strict_proxy).completions.create(model="openai/strict", prompt="x", max_tokens=1)
    assert caught.value.response.headers["retry-after"] == "7"
    message = caught.value.body["message"]  # type: ignore[index]
    assert message.count("openai/strict") == 1, message  # not "openai/strict: openai/strict: ..."


def test_an_upstream_400_is_a_400(strict_proxy: LiveProxy) -> None:
    strict_proxy.fake.fail_next(Fault(status=400, message="prompt is not allowed"))
    with pytest.raises(openai.BadRequestError, match="prompt is not allowed") as caught:
        sdk(strict_proxy).completions.create(model="openai/strict", prompt="x", max_tokens=1)
    assert caught.value.body["type"] == "invalid_request_error"  # type: ignore[index]
    # a request this deployment's API cannot express (chat on a completions model) is the caller's too
    with pytest.raises(openai.BadRequestError, match="api: chat"):
        sdk(strict_proxy).chat.completions.create(
            model="openai/strict", messages=[{"role": "user", "content": "x"}], max_tokens=1
        )


def test_an_upstream_timeout_is_504_and_a_dropped_connection_502(strict_proxy: LiveProxy) -> None:
    strict_proxy.fake.fail_next(Fault(delay=3.0))
    with pytest.raises(openai.InternalServerError, match="timeout") as timed_out:
        sdk(strict_proxy).completions.create(model="openai/strict", prompt="x", max_tokens=1)
    assert timed_out.value.status_code == 504
    strict_proxy.fake.fail_next(Fault(drop=True))
    with pytest.raises(openai.InternalServerError, match="connection") as dropped:
        sdk(strict_proxy).completions.create(model="openai/strict", prompt="y", max_tokens=1)
    assert dropped.value.status_code == 502


def test_unknown_routes_wrong_methods_and_bad_queries_have_the_openai_shape(strict_proxy: LiveProxy) -> None:
    headers = {"Authorization": f"Bearer {strict_proxy.admin_key}"}
    for method, path, status in (
        ("GET", "/v1/nothing", 404),
        ("POST", "/v1/embeddings", 404),
        ("GET", "/v1/completions", 405),
        ("DELETE", "/v1/models", 405),
        ("GET", "/api/account?all=maybe", 400),
    ):
        answer = httpx.request(method, strict_proxy.url + path, headers=headers)
        assert answer.status_code == status, (method, path, answer.text)
        error = answer.json()["error"]
        assert set(error) == {"message", "type", "param", "code"} and error["type"] == "invalid_request_error"
    with pytest.raises(openai.NotFoundError):
        sdk(strict_proxy).embeddings.create(model="simple/model1", input="x")


def test_invalid_parameters_are_bad_request_errors_naming_the_field(strict_proxy: LiveProxy) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(strict_proxy).completions.create(model="simple/model1", prompt="x", temperature=7)
    assert caught.value.body["param"] == "temperature"  # type: ignore[index]


def test_chat_content_given_as_a_list_of_text_parts(strict_proxy: LiveProxy) -> None:
    parts = [{"type": "text", "text": "the cat"}, {"type": "text", "text": " sat"}]
    answer = sdk(strict_proxy).chat.completions.create(
        model="simple/model1",
        messages=[{"role": "user", "content": parts}],  # type: ignore[list-item]
        max_tokens=1,
        temperature=0,
    )
    plain = sdk(strict_proxy).chat.completions.create(
        model="simple/model1", messages=[{"role": "user", "content": "the cat sat"}], max_tokens=1, temperature=0
    )
    assert answer.choices[0].message.content == plain.choices[0].message.content
    image = [{"type": "image_url", "image_url": {"url": "data:,"}}]
    with pytest.raises(openai.BadRequestError, match="text"):
        sdk(strict_proxy).chat.completions.create(
            model="simple/model1",
            messages=[{"role": "user", "content": image}],  # type: ignore[list-item]
            max_tokens=1,
        )


def test_a_bug_is_a_500_with_a_request_id_and_the_traceback_only_in_the_log(
    tmp_path: Path, fake_openai: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    config = ProxyAppConfig(
        base_path=str(tmp_path / "prod_env"),
        deployments_file=str(_simple_only(tmp_path)),
    )
    admin = Accounts(config.base_path).ensure_admin()
    service = local_service(config)

    async def broken(requests: Sequence[Request], *, cached_only: bool = False) -> list[Answer]:
        raise RuntimeError("\x1b[31mboom in /srv/mercury/secret.py pid 4242 at 10.1.2.3\x1b[0m")

    service.providers["simple"] = broken
    with caplog.at_level(logging.ERROR, logger="serve._http"), _Uvicorn(build_http_app(service)) as server:
        for path, body in (
            ("/v1/completions", {"model": "simple/model1", "prompt": "x"}),
            ("/api/request", {"request": {"model": "simple/model1", "prompt": "x"}}),
        ):
            answer = httpx.post(
                f"http://127.0.0.1:{server.port}{path}", json=body, headers={"Authorization": f"Bearer {admin}"}
            )
            assert answer.status_code == 500
            error = answer.json()["error"]
            assert error["type"] == "server_error" and error["message"].startswith("internal error (request id ")
            for leak in ("boom", "/srv", "4242", "10.1.2.3", "\x1b", "Traceback", "RuntimeError"):
                assert leak not in answer.text
            request_id = error["message"].split()[-1].rstrip(")")
            logged = [r for r in caplog.records if request_id in r.getMessage()]
            assert logged and logged[0].exc_info is not None and "boom" in str(logged[0].exc_info[1])


def _simple_only(folder: Path) -> Path:
    path = folder / "model_deployments.yaml"
    entry = {"name": "simple/model1", "client": "simple", "tokenizer": "openai/r50k_base", "context_window": 2048}
    path.write_text(yaml.safe_dump({"model_deployments": [entry]}))
    return path
