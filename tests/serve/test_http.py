"""The REST API over HTTP on loopback (in-process services): requests, cache, accounts, quotas, errors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.serve.conftest import LiveProxy
from tests.serve.fake_openai import Fault

SIMPLE = {"model": "simple/model1", "prompt": "the cat sat", "max_tokens": 2, "temperature": 0}


def post(proxy: LiveProxy, path: str, body: Any, key: str | None = None) -> httpx.Response:
    return httpx.post(proxy.url + path, json={"auth": {"api_key": key or proxy.admin_key}, **body}, timeout=30)


def test_general_info_lists_models_and_availability(live_proxy: LiveProxy) -> None:
    models = {m["name"]: m for m in httpx.get(live_proxy.url + "/api/general_info").json()["all_models"]}
    assert set(models) == {"simple/model1", "openai/fake", "openai/limited", "openai/chatty"}
    assert models["openai/fake"]["available"] and models["openai/fake"]["provider"] == "openai"


def test_request_answers_the_result_then_from_the_cache(live_proxy: LiveProxy) -> None:
    first = post(live_proxy, "/api/request", {"request": SIMPLE})
    assert first.status_code == 200
    result = first.json()
    # the simple model repeats the prompt's last word: " sat", then "\n"
    assert result["success"] and not result["cached"]
    assert [t["text"] for t in result["completions"][0]["tokens"]] == [" sat", "\n"]
    again = post(live_proxy, "/api/request", {"request": SIMPLE}).json()
    assert again["cached"] and again["completions"] == result["completions"]
    assert again["request_time"] == result["request_time"]
    salted = post(live_proxy, "/api/request", {"request": {**SIMPLE, "random": "1"}}).json()
    assert not salted["cached"]


def test_usage_is_charged_for_uncached_requests_only(live_proxy: LiveProxy) -> None:
    for _ in range(3):
        post(live_proxy, "/api/request", {"request": SIMPLE})
    account = httpx.get(live_proxy.url + "/api/account", headers={"Authorization": f"Bearer {live_proxy.admin_key}"})
    # prompt "the cat sat" is 3 tokens (r50k), the completion 2: charged once
    assert account.json()["usages"]["simple"]["total"]["used"] == 5


def test_hosted_model_through_the_fake_server_with_retries(live_proxy: LiveProxy) -> None:
    live_proxy.fake.fail_next(Fault(status=500), Fault(status=429, retry_after="0"))
    result = post(live_proxy, "/api/request", {"request": {"model": "openai/fake", "prompt": "Q", "max_tokens": 2}})
    assert result.status_code == 200
    assert result.json()["completions"][0]["text"] == " Paris is"
    assert len(live_proxy.fake.requests) == 3  # two failures retried, then the answer


def test_provider_failure_is_an_uncached_unsuccessful_result(live_proxy: LiveProxy) -> None:
    live_proxy.fake.fail_next(*[Fault(status=500, message="boom")] * 3)
    body = {"request": {"model": "openai/fake", "prompt": "Q2", "max_tokens": 1}}
    failed = post(live_proxy, "/api/request", body).json()
    assert not failed["success"] and failed["error_kind"] == "retriable" and "boom" in failed["error"]
    assert post(live_proxy, "/api/request", body).json()["success"]  # not cached: asked again


def test_batch_endpoint_answers_in_order_and_caches(live_proxy: LiveProxy) -> None:
    requests = [{**SIMPLE, "prompt": f"word{i} end{i}"} for i in range(5)] + [SIMPLE]
    first = post(live_proxy, "/api/requests", {"requests": requests}).json()["results"]
    texts = [r["completions"][0]["text"] for r in first]
    assert [t.split()[0] for t in texts] == [f"end{i}" for i in range(5)] + ["sat"]
    second = post(live_proxy, "/api/requests", {"requests": requests}).json()["results"]
    assert all(r["cached"] for r in second)


@pytest.mark.parametrize(
    ("key", "status", "kind"),
    [(None, 401, "authentication_error"), ("not-a-key", 401, "authentication_error")],
)
def test_bad_or_missing_keys_are_401_without_the_key(
    live_proxy: LiveProxy, key: str | None, status: int, kind: str
) -> None:
    body: dict[str, Any] = {"request": SIMPLE}
    if key is not None:
        body["auth"] = {"api_key": key}
    answer = httpx.post(live_proxy.url + "/api/request", json=body)
    assert answer.status_code == status and answer.json()["error"]["type"] == kind
    assert "not-a-key" not in answer.text


def test_bad_json_and_invalid_fields_are_400_naming_the_problem(live_proxy: LiveProxy) -> None:
    headers = {"Authorization": f"Bearer {live_proxy.admin_key}"}
    broken = httpx.post(live_proxy.url + "/api/request", content=b'{"request": ', headers=headers)
    assert broken.status_code == 400 and "not valid JSON" in broken.json()["error"]["message"]
    invalid = httpx.post(
        live_proxy.url + "/api/request", json={"request": {**SIMPLE, "temperature": -1}}, headers=headers
    )
    error = invalid.json()["error"]
    assert (
        invalid.status_code == 400
        and error["param"] == "temperature"
        and "greater than or equal to 0" in error["message"]
    )
    missing = httpx.post(live_proxy.url + "/api/request", json={}, headers=headers)
    assert missing.status_code == 400 and "'request' is required" in missing.json()["error"]["message"]


def test_unknown_model_is_404(live_proxy: LiveProxy) -> None:
    answer = post(live_proxy, "/api/request", {"request": {"model": "nobody/nothing"}})
    assert answer.status_code == 404 and "unknown model 'nobody/nothing'" in answer.json()["error"]["message"]


def test_quota_exhaustion_is_429_and_cached_answers_stay_free(live_proxy: LiveProxy) -> None:
    created = post(live_proxy, "/api/account", {"account": {"description": "user", "quotas": {"simple": {"total": 6}}}})
    user = created.json()["api_key"]
    assert post(live_proxy, "/api/request", {"request": SIMPLE}, key=user).status_code == 200  # 5 of 6 tokens
    over = post(live_proxy, "/api/request", {"request": {**SIMPLE, "prompt": "a b c d"}}, key=user)
    assert over.status_code == 429 and over.json()["error"]["type"] == "insufficient_quota"
    assert "total quota of model group 'simple' exceeded" in over.json()["error"]["message"]
    assert post(live_proxy, "/api/request", {"request": SIMPLE}, key=user).json()["cached"]


def test_rate_limit_is_429_with_retry_after(live_proxy: LiveProxy) -> None:
    codes = []
    for i in range(3):  # openai/limited allows 2 requests a minute and no waiting
        answer = post(
            live_proxy, "/api/request", {"request": {"model": "openai/limited", "prompt": f"p{i}", "max_tokens": 1}}
        )
        codes.append(answer.status_code)
    assert codes == [200, 429, 429]  # a burst of 1, then one every (60 + 1) / 1.5 s: no minute holds 3
    assert 30 < int(answer.headers["Retry-After"]) <= 41  # 40.7 s, less the time since the first
    assert "requests per minute" in answer.json()["error"]["message"]


def test_accounts_read_update_create_and_rotate(live_proxy: LiveProxy) -> None:
    user = post(live_proxy, "/api/account", {"account": {"description": "u"}}).json()["api_key"]
    own = post(live_proxy, "/api/account", {"account": {"description": "x"}}, key=user)
    assert own.status_code == 403 and own.json()["error"]["type"] == "permission_denied"
    changed = httpx.put(
        live_proxy.url + "/api/account", json={"auth": {"api_key": user}, "account": {"description": "me"}}
    )
    assert changed.json()["description"] == "me"
    quota = httpx.put(
        live_proxy.url + "/api/account",
        json={"auth": {"api_key": user}, "account": {"quotas": {"simple": {"daily": 1}}}},
    )
    assert quota.status_code == 403
    by_admin = httpx.put(
        live_proxy.url + "/api/account",
        json={
            "auth": {"api_key": live_proxy.admin_key},
            "account": {"api_key": user, "quotas": {"simple": {"daily": 9}}},
        },
    )
    assert by_admin.json()["usages"]["simple"]["daily"]["quota"] == 9
    rotated = post(live_proxy, "/api/account/api_key", {}, key=user).json()["api_key"]
    assert rotated != user
    assert post(live_proxy, "/api/request", {"request": SIMPLE}, key=user).status_code == 401
    admin = {"Authorization": f"Bearer {live_proxy.admin_key}"}
    everyone = httpx.get(live_proxy.url + "/api/account", params={"all": "true"}, headers=admin)
    assert len(everyone.json()) == 2
    # a key in the URL (the original proxy's `?auth=`) is not accepted: URLs are logged
    in_url = httpx.get(live_proxy.url + "/api/account", params={"auth": json.dumps({"api_key": live_proxy.admin_key})})
    assert in_url.status_code == 401


def test_tokenize_decode_and_toxicity_without_key(live_proxy: LiveProxy) -> None:
    tokens = post(live_proxy, "/api/tokenize", {"request": {"model": "simple/model1", "text": "hello world"}}).json()
    assert tokens == {"token_ids": [31373, 995], "tokens": ["hello", " world"]}
    text = post(live_proxy, "/api/decode", {"request": {"model": "simple/model1", "token_ids": [31373, 995]}}).json()
    assert text == {"text": "hello world"}
    toxicity = post(live_proxy, "/api/toxicity", {"request": {"text_batch": ["hi"]}})
    assert toxicity.status_code == 503 and "perspectiveApiKey" in toxicity.json()["error"]["message"]


def test_openapi_description_is_served(live_proxy: LiveProxy) -> None:
    paths = httpx.get(live_proxy.url + "/openapi.json").json()["paths"]
    assert {"/api/request", "/api/requests", "/v1/chat/completions", "/v1/completions", "/v1/models"} <= set(paths)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/request", {"request": {"model": "nobody/nothing", "prompt": "x"}}),  # unknown model
        ("/api/requests", {"requests": [SIMPLE, {"model": "nobody/nothing"}]}),
        ("/api/request", {"request": {**SIMPLE, "temperature": -1}}),  # invalid field
        ("/api/tokenize", {"request": {"model": "nobody/nothing", "text": "x"}}),
        ("/api/decode", {"request": {"model": "simple/model1", "token_ids": ["a"]}}),
        ("/api/account", {"account": {"is_admin": "not a bool"}}),
        ("/v1/completions", {"model": "nobody/nothing", "prompt": "x"}),
        ("/v1/chat/completions", {"model": "nobody/nothing", "messages": [{"role": "user", "content": "x"}]}),
        ("/v1/chat/completions", {"model": "simple/model1"}),  # no messages
    ],
)
def test_a_wrong_key_is_401_before_an_unknown_model_or_an_invalid_body(
    live_proxy: LiveProxy, path: str, body: dict[str, Any]
) -> None:
    wrong = httpx.post(live_proxy.url + path, json=body, headers={"Authorization": "Bearer not-a-key"})
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "authentication_error"
    right = httpx.post(live_proxy.url + path, json=body, headers={"Authorization": f"Bearer {live_proxy.admin_key}"})
    assert right.status_code in (404, 400), right.text  # the same body with the right key: what is wrong with it


def test_docs_is_an_offline_page_listing_the_routes(live_proxy: LiveProxy) -> None:
    page = httpx.get(live_proxy.url + "/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    # nothing loaded from elsewhere (FastAPI's Swagger UI comes from a CDN)
    assert "<script" not in page.text and "https://" not in page.text and "http://" not in page.text
    assert '<a href="openapi.json">/openapi.json</a>' in page.text
    row = (
        "<tr><td><code>POST</code></td><td><code>/api/requests</code></td><td>Make Requests</td>"
        "<td>The batch endpoint: {&quot;auth&quot;, &quot;requests&quot;: [Request, ...]} -&gt; "
        "{&quot;results&quot;: [RequestResult, ...]}.</td></tr>"
    )
    assert row in page.text
    paths = httpx.get(live_proxy.url + "/openapi.json").json()["paths"]
    assert all(f"<code>{path}</code>" in page.text for path in paths)
    assert "/docs" not in paths and "/benchmarks" not in paths
    assert httpx.get(live_proxy.url + "/redoc").status_code == 404
