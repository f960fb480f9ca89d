"""Property-based fuzzing of every endpoint of the proxy on Ray Serve, over real HTTP on loopback (issue 11).

Hypothesis draws bodies that are almost right (each field well typed or anything at all: wrong types, huge and
negative integers, NaN, unicode, deep nesting), raw bytes, oversized and deeply nested bodies, any method on
any path, with the admin's key, a user's key, a wrong key or none. Whatever is sent, the proxy answers without
a 500 (or a traceback), every /api and /v1 error has OpenAI's shape, and a normal request still works after.

The example counts are modest so the module runs in well under a minute on two busy cores. For a longer run:

    MERCURY_FUZZ_EXAMPLES=2000 .venv/bin/pytest -q tests/serve/test_fuzz.py

(MERCURY_FUZZ_EXAMPLES is the examples of the main test; the others scale with it.)
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from serve import Accounts, ProxyAppConfig, RequestLimits
from tests.serve.conftest import write_deployments
from tests.serve.fake_openai import FakeOpenAI, Fault

APP = "proxy-fuzz"
EXAMPLES = int(os.environ.get("MERCURY_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a request's time is the machine's business, not a property
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,  # no .hypothesis folder in the repository
)


@dataclass
class FuzzedProxy:
    url: str
    admin_key: str
    user_key: str
    http: httpx.Client
    fake: FakeOpenAI


@pytest.fixture(scope="module")
def fuzzed(ray_serve_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzedProxy]:
    from ray import serve

    from serve._app import build_app

    folder = tmp_path_factory.mktemp("fuzz")
    with FakeOpenAI() as fake:
        deployments = write_deployments(folder, fake.base_url)
        config = ProxyAppConfig(
            base_path=str(folder / "prod_env"),
            deployments_file=str(deployments),
            limits=RequestLimits(max_body_bytes=1024 * 1024),  # the fuzzed bodies of 3 and 5 MiB are over it
        )
        accounts = Accounts(config.base_path)
        admin = accounts.ensure_admin()
        assert admin is not None
        user = accounts.create_local_account("fuzzed user").api_key
        serve.run(build_app(config), name=APP, route_prefix="/")
        with httpx.Client(base_url=f"http://127.0.0.1:{ray_serve_port}", timeout=120) as http:
            yield FuzzedProxy(http.base_url.__str__().rstrip("/"), admin, user, http, fake)
        serve.delete(APP)


# --- strategies -------------------------------------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.floats()  # NaN and infinities included: json.dumps writes them as NaN / Infinity
    | st.text(max_size=40)
)
ANYTHING = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
MODELS = st.sampled_from(["simple/model1", "openai/fake", "openai/chatty", "openai/limited", "no/such", ""])
TEXT = st.text(max_size=120) | st.sampled_from(["the cat sat", "Q: 2+2=\nA:", "<|endoftext|>", "\u202e\U0001f600"])
INTS = st.integers(-3, 2100) | st.sampled_from([0, 1, 2047, 2048, 4096, 10**9, 10**30, -(2**63), 2**64])


def maybe(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a well-typed value, sometimes anything at all."""
    return st.one_of(valid, valid, valid, ANYTHING)


REQUEST = st.fixed_dictionaries(
    {"model": maybe(MODELS)},
    optional={
        "prompt": maybe(TEXT),
        "messages": maybe(
            st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "system"]), "content": TEXT}), max_size=2)
        ),
        "max_tokens": maybe(INTS),
        "num_completions": maybe(st.integers(-1, 200)),
        "top_k_per_token": maybe(st.integers(-1, 30) | st.just(1_000_000)),
        "temperature": maybe(st.floats(-1, 3)),
        "top_p": maybe(st.floats(-0.5, 1.5)),
        "echo_prompt": maybe(st.booleans()),
        "stop_sequences": maybe(st.lists(TEXT, max_size=3)),
        "random": maybe(st.text(max_size=10)),
        "bogus": ANYTHING,
    },
)
CONTENT = TEXT | st.lists(
    st.fixed_dictionaries({"type": st.sampled_from(["text", "image_url"]), "text": maybe(TEXT)}), max_size=3
)
COMMON_V1 = {
    "max_tokens": maybe(INTS),
    "n": maybe(st.integers(-1, 200)),
    "temperature": maybe(st.floats(-1, 3)),
    "top_p": maybe(st.floats(-0.5, 1.5)),
    "stop": maybe(TEXT | st.lists(TEXT, max_size=3)),
    "seed": maybe(INTS),
    "stream": maybe(st.booleans()),
    "user": ANYTHING,
}
COMPLETION = st.fixed_dictionaries(
    {"model": maybe(MODELS)},
    optional={
        "prompt": maybe(TEXT | st.lists(TEXT, max_size=3)),
        "logprobs": maybe(st.integers(-1, 30)),
        "echo": maybe(st.booleans()),
        **COMMON_V1,
    },
)
CHAT = st.fixed_dictionaries(
    {"model": maybe(MODELS)},
    optional={
        "messages": maybe(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "role": maybe(st.sampled_from(["user", "system", "assistant", "developer", "tool"])),
                        "content": maybe(CONTENT),
                    }
                ),
                max_size=3,
            )
        ),
        "logprobs": maybe(st.booleans()),
        "top_logprobs": maybe(st.integers(-1, 30)),
        "max_completion_tokens": maybe(INTS),
        **COMMON_V1,
    },
)
ACCOUNT = st.fixed_dictionaries(
    {},
    optional={
        "description": maybe(TEXT),
        "is_admin": maybe(st.booleans()),
        "quotas": maybe(
            st.dictionaries(
                st.sampled_from(["simple", "openai"]),
                st.dictionaries(st.sampled_from(["daily", "monthly", "total", "hourly"]), INTS | st.none(), max_size=2),
                max_size=2,
            )
        ),
        "api_key": maybe(TEXT),
    },
)

TOKENIZE = st.fixed_dictionaries({"model": maybe(MODELS), "text": maybe(TEXT)})
DECODE = st.fixed_dictionaries({"model": maybe(MODELS), "token_ids": maybe(st.lists(INTS, max_size=6))})
TOXICITY = st.fixed_dictionaries({"text_batch": maybe(st.lists(TEXT, max_size=3))})

# (method, path, body strategy, whether the admin's key may be used: never where it could change the admin)
ENDPOINTS: list[tuple[str, str, st.SearchStrategy[Any], bool]] = [
    ("POST", "/api/request", st.fixed_dictionaries({"request": maybe(REQUEST)}), True),
    ("POST", "/api/requests", st.fixed_dictionaries({"requests": maybe(st.lists(REQUEST, max_size=4))}), True),
    ("POST", "/v1/completions", COMPLETION, True),
    ("POST", "/v1/chat/completions", CHAT, True),
    ("POST", "/api/tokenize", st.fixed_dictionaries({"request": maybe(TOKENIZE)}), True),
    ("POST", "/api/decode", st.fixed_dictionaries({"request": maybe(DECODE)}), True),
    ("POST", "/api/toxicity", st.fixed_dictionaries({"request": maybe(TOXICITY)}), True),
    ("PUT", "/api/account", st.fixed_dictionaries({"account": maybe(ACCOUNT)}), False),
    ("POST", "/api/account", st.fixed_dictionaries({"account": maybe(ACCOUNT)}), False),
    ("POST", "/api/account/api_key", st.fixed_dictionaries({"api_key": maybe(TEXT)}), False),
    ("GET", "/api/account", st.none(), True),
    ("GET", "/api/general_info", st.none(), True),
    ("GET", "/v1/models", st.none(), True),
]  # fmt: skip
ENDPOINT = st.sampled_from(ENDPOINTS)
WHO = st.sampled_from(["admin", "user", "wrong", "none", "in-body"])


def _key(proxy: FuzzedProxy, who: str, admin_allowed: bool) -> str | None:
    if who == "admin" and admin_allowed:
        return proxy.admin_key
    return {"wrong": "not-a-key", "none": None}.get(who, proxy.user_key)


def _send(proxy: FuzzedProxy, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request, its whole answer read (streams too)."""
    with proxy.http.stream(method, path, **kwargs) as answer:
        answer.read()
    return answer


def _check(answer: httpx.Response, path: str) -> None:
    assert answer.status_code != 500 and answer.status_code < 600, (path, answer.status_code, answer.text[:500])
    assert "Traceback" not in answer.text and 'File "' not in answer.text, answer.text[:500]
    if answer.status_code >= 400 and path.startswith(("/api", "/v1")):
        error = answer.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}, error
    if answer.status_code == 200 and answer.headers.get("content-type", "").startswith("text/event-stream"):
        assert answer.text.rstrip().endswith("data: [DONE]"), answer.text[-200:]


def _assert_still_serving(proxy: FuzzedProxy) -> None:
    body = {"model": "simple/model1", "prompt": "the cat sat", "max_tokens": 2, "temperature": 0}
    answer = proxy.http.post("/v1/completions", json=body, headers={"Authorization": f"Bearer {proxy.admin_key}"})
    assert answer.status_code == 200 and answer.json()["choices"][0]["text"] == " sat\n", answer.text


# --- properties -------------------------------------------------------------------------------------------------


@FUZZ
@given(endpoint=ENDPOINT, body=st.data(), who=WHO)
def test_no_body_makes_an_endpoint_fail(fuzzed: FuzzedProxy, endpoint: Any, body: st.DataObject, who: str) -> None:
    method, path, strategy, admin_allowed = endpoint
    value = body.draw(strategy)
    key = _key(fuzzed, who, admin_allowed)
    headers = {"Content-Type": "application/json"}
    if who == "in-body" and isinstance(value, dict):
        value = {**value, "auth": {"api_key": fuzzed.user_key}}
    elif key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if value is None:
        answer = _send(fuzzed, method, path, headers=headers, params={"all": body.draw(maybe(st.booleans()))})
    else:
        answer = _send(fuzzed, method, path, headers=headers, content=json.dumps(value).encode())
    _check(answer, path)


@settings(FUZZ, max_examples=max(10, EXAMPLES // 4))
@given(
    endpoint=ENDPOINT,
    raw=st.binary(max_size=200)
    | st.integers(1, 200_000).map(lambda depth: b"[" * depth + b"]" * depth)
    | st.integers(1, 200_000).map(lambda depth: b'{"request": ' + b'{"a":' * depth + b"1" + b"}" * depth + b"}")
    | st.sampled_from([3 * 1024 * 1024 + 1, 5 * 1024 * 1024]).map(lambda size: b'{"prompt": "' + b"x" * size + b'"}')
    | st.sampled_from([b"\xff\xfe{", b'{"request": "\xc3\x28"}', b"[" * 10 + b"1e999999" + b"]" * 10]),
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]),
)
def test_raw_oversized_and_deeply_nested_bodies(
    fuzzed: FuzzedProxy, endpoint: Any, raw: bytes, content_type: str
) -> None:
    method, path, _, _ = endpoint
    headers = {"Authorization": f"Bearer {fuzzed.user_key}", "Content-Type": content_type}
    _check(_send(fuzzed, "POST" if method == "GET" else method, path, headers=headers, content=raw), path)


@settings(FUZZ, max_examples=max(10, EXAMPLES // 4))
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
    path=st.sampled_from(["/api/", "/v1/", "/", "/static/", "/benchmarks/", "/docs/"]).flatmap(
        lambda prefix: st.text(max_size=30).map(lambda rest: prefix + quote(rest, safe="/"))
    ),
    who=WHO,
)
def test_any_method_on_any_path(fuzzed: FuzzedProxy, method: str, path: str, who: str) -> None:
    key = _key(fuzzed, who, admin_allowed=False)
    headers = {} if key is None else {"Authorization": f"Bearer {key}"}
    answer = _send(fuzzed, method, path, headers=headers)
    assert answer.status_code != 500 and "Traceback" not in answer.text, (method, path, answer.text[:300])
    if answer.status_code >= 400 and path.startswith(("/api", "/v1")) and method != "HEAD":
        assert set(answer.json()["error"]) == {"message", "type", "param", "code"}


def test_the_proxy_still_answers_a_normal_request_afterwards(fuzzed: FuzzedProxy) -> None:
    # runs after the properties above (pytest keeps the file's order); each property also passes alone
    _assert_still_serving(fuzzed)


def test_the_requests_of_the_issue_are_refused_on_ray(fuzzed: FuzzedProxy) -> None:
    """Issue 11's findings 1, 3 and 4, as sent to a proxy on Ray Serve: each a 400 (or 413), none a 500."""
    admin = {"Authorization": f"Bearer {fuzzed.admin_key}", "Content-Type": "application/json"}
    simple = {"model": "simple/model1", "prompt": "x"}
    cases: list[tuple[str, bytes, int, str]] = [
        ("/v1/completions", json.dumps({**simple, "max_tokens": 1_000_000_000}).encode(), 400, "max_tokens"),
        ("/v1/completions", json.dumps({**simple, "max_tokens": 5000}).encode(), 400, "max_tokens"),
        ("/api/request", json.dumps({"request": {**simple, "top_k_per_token": 1_000_000}}).encode(), 400, "top_k"),
        ("/api/request", json.dumps({"request": {**simple, "num_completions": 1000}}).encode(), 400, "num_compl"),
        ("/api/request", b"[" * 100_000 + b"]" * 100_000, 400, "nested"),
        (
            "/api/request",
            b'{"request": {"model": "simple/model1", "max_tokens": ' + b"1" + b"0" * 30 + b"}}",
            400,
            "+-",
        ),
        ("/api/decode", b'{"request": {"model": "simple/model1", "token_ids": [-1]}}', 400, "token_ids"),
        ("/api/decode", b'{"request": {"model": "simple/model1", "token_ids": [1000000000000]}}', 400, "token_ids"),
        ("/api/request", json.dumps({"request": {**simple, "prompt": "x" * 5_000_000}}).encode(), 413, "bytes"),
    ]
    for path, body, status, word in cases:
        answer = fuzzed.http.post(path, content=body, headers=admin)
        assert answer.status_code == status and word in answer.json()["error"]["message"], (path, answer.text[:300])
    _assert_still_serving(fuzzed)


def test_an_upstream_429_keeps_its_status_and_retry_after_across_the_replicas(fuzzed: FuzzedProxy) -> None:
    """The provider's failure crosses from the provider replica to the ingress with its status and Retry-After."""
    fuzzed.fake.fail_next(*[Fault(status=429, retry_after="1", message="slow down")] * 3)  # every attempt
    body = {"model": "openai/fake", "prompt": "rate limited upstream", "max_tokens": 1}
    answer = fuzzed.http.post("/v1/completions", json=body, headers={"Authorization": f"Bearer {fuzzed.admin_key}"})
    assert answer.status_code == 429 and answer.headers["retry-after"] == "1", answer.text
    assert "slow down" in answer.json()["error"]["message"]


def test_a_provider_replica_that_dies_mid_request_is_a_503_not_a_500(fuzzed: FuzzedProxy) -> None:
    """Runs last in this module: it kills the provider replica serving openai/fake while a request waits on it.
    The caller hears 503 in OpenAI's shape (retry later), and Serve's replacement replica answers afterwards."""
    import ray

    fuzzed.fake.fail_next(Fault(delay=6.0))
    headers = {"Authorization": f"Bearer {fuzzed.admin_key}"}
    body = {"model": "openai/fake", "prompt": "a replica dies under me", "max_tokens": 1}
    answers: list[httpx.Response] = []
    waiting = threading.Thread(
        target=lambda: answers.append(fuzzed.http.post("/v1/completions", json=body, headers=headers))
    )
    waiting.start()
    time.sleep(2.0)  # the request is now waiting on the fake server, inside the provider replica
    replicas = [
        a
        for a in ray.util.list_named_actors(all_namespaces=True)
        if APP in a["name"] and "provider-openai" in a["name"]
    ]
    assert len(replicas) == 1, replicas
    ray.kill(ray.get_actor(replicas[0]["name"], namespace=replicas[0]["namespace"]), no_restart=True)
    waiting.join(60)
    answer = answers[0]
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["message"] == "the model's replica is unavailable; retry later" and "Traceback" not in answer.text
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # Serve starts a new replica
        again = fuzzed.http.post("/v1/completions", json={**body, "prompt": "after"}, headers=headers)
        if again.status_code == 200:
            break
        assert again.status_code == 503, again.text
        time.sleep(1.0)
    assert again.status_code == 200, again.text
