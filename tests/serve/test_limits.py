"""Limits checked before any work (issue 11, findings 1, 3 and 4), over real HTTP on loopback: each answer is a
400 (or 413) naming the field and the limit, never a 500, a traceback, or a replica busy for minutes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from serve import Accounts, ProxyAppConfig, local_service
from serve._http import build_http_app
from serve._limits import RequestLimits, check_json_value, parse_json
from tests.serve.conftest import LiveProxy, _Uvicorn
from tests.serve.fake_openai import FakeOpenAI

SIMPLE = {"model": "simple/model1", "prompt": "the cat sat", "max_tokens": 2, "temperature": 0}


@pytest.fixture
def capped_proxy(tmp_path: Path, fake_openai: FakeOpenAI) -> Iterator[LiveProxy]:
    """simple/model1 (context window 2048) and simple/capped (max_output_tokens 10), with a 64 KiB body limit."""
    entries: list[dict[str, Any]] = [
        {"name": "simple/model1", "client": "simple", "tokenizer": "openai/r50k_base", "context_window": 2048},
        {
            "name": "simple/capped",
            "client": "simple",
            "tokenizer": "openai/r50k_base",
            "context_window": 2048,
            "max_output_tokens": 10,
        },
    ]
    deployments = tmp_path / "model_deployments.yaml"
    deployments.write_text(yaml.safe_dump({"model_deployments": entries}))
    config = ProxyAppConfig(
        base_path=str(tmp_path / "prod_env"),
        deployments_file=str(deployments),
        limits=RequestLimits(max_body_bytes=64 * 1024, max_prompt_chars=20_000),
    )
    admin = Accounts(config.base_path).ensure_admin()
    assert admin is not None
    with _Uvicorn(build_http_app(local_service(config))) as server:
        yield LiveProxy(f"http://127.0.0.1:{server.port}", admin, Path(config.base_path), fake_openai, config)


def post(proxy: LiveProxy, path: str, body: Any = None, content: bytes | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {proxy.admin_key}", "Content-Type": "application/json"}
    if content is None:
        return httpx.post(proxy.url + path, json=body, headers=headers, timeout=60)
    return httpx.post(proxy.url + path, content=content, headers=headers, timeout=60)


def refused(answer: httpx.Response, status: int, param: str | None, *words: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param, error
    assert all(word in error["message"] for word in words), error["message"]
    assert "Traceback" not in answer.text and "File " not in answer.text
    return error


def test_max_tokens_must_fit_the_context_window_minus_the_prompt(capped_proxy: LiveProxy) -> None:
    # finding 1: a billion tokens grew the replica to 7.5 GB; 5000 on a 2048-token model was accepted
    huge = post(capped_proxy, "/api/request", {"request": {**SIMPLE, "max_tokens": 1_000_000_000}})
    refused(huge, 400, "max_tokens", "1000000000", "context window")
    over = post(capped_proxy, "/api/request", {"request": {**SIMPLE, "max_tokens": 5000}})
    refused(over, 400, "max_tokens", "5000", "2048")
    # the prompt "the cat sat" is 3 tokens: 2045 fit, 2046 do not, and the message says so
    fits = post(capped_proxy, "/api/request", {"request": {**SIMPLE, "max_tokens": 2045}})
    assert fits.status_code == 200 and fits.json()["success"], fits.text
    just_over = post(capped_proxy, "/api/request", {"request": {**SIMPLE, "max_tokens": 2046}})
    refused(just_over, 400, "max_tokens", "over the limit of 2045", "minus the prompt's 3")


def test_a_prompt_longer_than_the_context_window_is_refused(capped_proxy: LiveProxy) -> None:
    long_prompt = " word" * 3000  # 3000 tokens, 15000 characters: within the character limit
    answer = post(capped_proxy, "/api/request", {"request": {**SIMPLE, "prompt": long_prompt, "max_tokens": 0}})
    refused(answer, 400, "prompt", "3000 tokens", "2048 tokens")
    chars = post(capped_proxy, "/api/request", {"request": {**SIMPLE, "prompt": "x" * 20_001}})
    refused(chars, 400, "prompt", "20001", "max_prompt_chars")


def test_max_output_tokens_of_the_model_is_a_cap(capped_proxy: LiveProxy) -> None:
    answer = post(capped_proxy, "/api/request", {"request": {**SIMPLE, "model": "simple/capped", "max_tokens": 11}})
    refused(answer, 400, "max_tokens", "11", "max_output_tokens")
    sdk = openai.OpenAI(base_url=capped_proxy.url + "/v1", api_key=capped_proxy.admin_key, max_retries=0)
    with pytest.raises(openai.BadRequestError, match="max_output_tokens"):
        sdk.completions.create(model="simple/capped", prompt="x", max_tokens=11)


def test_completions_and_top_k_have_the_same_caps_on_both_apis(capped_proxy: LiveProxy) -> None:
    # finding 3: top_k_per_token 10**6 kept a replica busy for 8 minutes; 1000 completions passed on /api
    top_k = post(capped_proxy, "/api/request", {"request": {**SIMPLE, "top_k_per_token": 1_000_000}})
    refused(top_k, 400, "top_k_per_token", "1000000", "20")
    many = post(capped_proxy, "/api/request", {"request": {**SIMPLE, "num_completions": 1000}})
    refused(many, 400, "num_completions", "1000", "128")
    batch = post(capped_proxy, "/api/requests", {"requests": [{**SIMPLE, "num_completions": 129}]})
    refused(batch, 400, "num_completions", "129")
    sdk = openai.OpenAI(base_url=capped_proxy.url + "/v1", api_key=capped_proxy.admin_key, max_retries=0)
    with pytest.raises(openai.BadRequestError, match="n"):
        sdk.completions.create(model="simple/model1", prompt="x", max_tokens=1, n=1000)
    with pytest.raises(openai.BadRequestError, match="max_tokens"):
        sdk.chat.completions.create(
            model="simple/model1", messages=[{"role": "user", "content": "x"}], max_tokens=1_000_000_000
        )
    # generated tokens in all: max_tokens times n
    total = post(capped_proxy, "/api/request", {"request": {**SIMPLE, "num_completions": 128, "max_tokens": 1000}})
    refused(total, 400, "max_tokens", "max_completion_tokens_total")
    # logprobs one answer carries: max_tokens times n times top_k
    logprobs = post(
        capped_proxy,
        "/api/request",
        {"request": {**SIMPLE, "num_completions": 100, "max_tokens": 100, "top_k_per_token": 20}},
    )
    refused(logprobs, 400, "top_k_per_token", "max_top_logprobs_total", "over the limit of 13")
    stops = post(capped_proxy, "/api/request", {"request": {**SIMPLE, "stop_sequences": ["x"] * 17}})
    refused(stops, 400, "stop_sequences", "17", "16")


def test_deep_json_huge_integers_and_non_finite_numbers_are_400(capped_proxy: LiveProxy) -> None:
    # finding 4: RecursionError and OverflowError were 500s with tracebacks
    deep = b'{"request": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"  # deeper than the parser's stack
    refused(post(capped_proxy, "/api/request", content=deep), 400, None, "nested deeper than 32")
    nested = b"[" * 1000 + b"]" * 1000
    refused(post(capped_proxy, "/api/request", content=nested), 400, None, "nested deeper than 32")
    depth_40 = '{"request": ' + "[" * 40 + "]" * 40 + "}"
    too_deep = post(capped_proxy, "/api/request", content=depth_40.encode())
    refused(too_deep, 400, "request" + ".0" * 31, "nested 33 levels deep", "limit of 32")
    body = '{"request": {"model": "simple/model1", "prompt": "x", "max_tokens": 1000000000000000000000000000000}}'
    refused(post(capped_proxy, "/api/request", content=body.encode()), 400, "request.max_tokens", "+-limit")
    v1 = '{"model": "simple/model1", "prompt": "x", "max_tokens": 1000000000000000000000000000000}'
    refused(post(capped_proxy, "/v1/completions", content=v1.encode()), 400, "max_tokens")
    for constant in (b"NaN", b"Infinity", b"1e400"):
        body_bytes = b'{"request": {"model": "simple/model1", "prompt": "x", "temperature": ' + constant + b"}}"
        answer = post(capped_proxy, "/api/request", content=body_bytes)
        assert answer.status_code == 400 and "finite" in answer.json()["error"]["message"], answer.text
    digits = b'{"request": {"max_tokens": ' + b"9" * 5000 + b"}}"
    refused(post(capped_proxy, "/api/request", content=digits), 400, None, "not valid JSON")


def test_a_body_over_the_size_limit_is_413_declared_or_streamed(capped_proxy: LiveProxy) -> None:
    big = {"request": {**SIMPLE, "prompt": "x" * 100_000}}
    answer = post(capped_proxy, "/api/request", big)
    assert answer.status_code == 413 and "65536 bytes" in answer.json()["error"]["message"], answer.text

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer, counted as it arrives
        yield b'{"request": {"prompt": "'
        for _ in range(100):
            yield b"x" * 1000
        yield b'"}}'

    streamed = httpx.post(
        capped_proxy.url + "/v1/completions",
        content=chunks(),
        headers={"Authorization": f"Bearer {capped_proxy.admin_key}"},
        timeout=60,
    )
    assert streamed.status_code == 413 and streamed.json()["error"]["type"] == "invalid_request_error"


def test_decode_refuses_ids_outside_the_vocabulary(capped_proxy: LiveProxy) -> None:
    for ids, shown in (([-1], "-1"), ([10**12], str(10**12)), ([50257], "50257")):
        answer = post(capped_proxy, "/api/decode", {"request": {"model": "simple/model1", "token_ids": ids}})
        refused(answer, 400, "request.token_ids", shown, "0 to 50256")
    good = post(capped_proxy, "/api/decode", {"request": {"model": "simple/model1", "token_ids": [1169, 3797]}})
    assert good.status_code == 200 and good.json() == {"text": "the cat"}
    flags = post(capped_proxy, "/api/decode", {"request": {"model": "simple/model1", "token_ids": [True]}})
    assert flags.status_code == 400


def test_a_wrong_key_still_hears_401_before_a_limit(capped_proxy: LiveProxy) -> None:
    answer = httpx.post(
        capped_proxy.url + "/api/request",
        json={"request": {**SIMPLE, "max_tokens": 10**9}},
        headers={"Authorization": "Bearer wrong"},
    )
    assert answer.status_code == 401


def test_limits_are_configuration_that_refuses_unknown_keys() -> None:
    with pytest.raises(ValueError, match="max_tokns"):
        ProxyAppConfig.model_validate({"limits": {"max_tokns": 5}})
    with pytest.raises(ValueError, match="max_json_depth"):
        RequestLimits(max_json_depth=1)


def test_json_checks_walk_without_recursion() -> None:
    limits = RequestLimits(max_json_depth=10_000)
    deep: Any = []
    for _ in range(5000):  # deeper than Python's recursion limit would allow a recursive walk
        deep = [deep]
    check_json_value(deep, limits)
    assert parse_json(b'{"a": [1, 2.5, "x", null, true]}', limits) == {"a": [1, 2.5, "x", None, True]}
