"""Finding 7 of issue 11: quotas are reserved before the upstream call, so no upstream call is made that the
account cannot pay for. Before, 64 concurrent requests against a 20-request quota made 36 upstream calls (the
quota was charged after the answers, and 16 paid answers were refused). Counted at the fake upstream server."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bench import Request
from bench.models import load_deployments
from serve import Accounts
from serve._budget import max_cost
from tests.serve.conftest import LiveProxy
from tests.serve.fake_openai import Fault

MODEL = "openai/fake"


def cost(proxy: LiveProxy, body: dict[str, Any]) -> int:
    deployment = load_deployments(proxy.config.deployments_path())[MODEL]
    return max_cost(Request(**body), deployment)


def user_with_quota(proxy: LiveProxy, tokens: int) -> str:
    created = httpx.post(
        proxy.url + "/api/account",
        json={"account": {"description": "limited", "quotas": {"openai": {"daily": tokens}}}},
        headers={"Authorization": f"Bearer {proxy.admin_key}"},
        timeout=60,
    )
    key: str = created.json()["api_key"]
    return key


def send_all(proxy: LiveProxy, key: str, bodies: list[dict[str, Any]]) -> list[httpx.Response]:
    """Every request at once, one thread each (the HTTP server sees them concurrently)."""
    with httpx.Client(timeout=120) as client, ThreadPoolExecutor(len(bodies)) as pool:
        return list(
            pool.map(
                lambda body: client.post(
                    proxy.url + "/api/request", json={"request": body}, headers={"Authorization": f"Bearer {key}"}
                ),
                bodies,
            )
        )


def test_64_concurrent_requests_against_a_20_request_quota_make_at_most_20_upstream_calls(
    live_proxy: LiveProxy,
) -> None:
    live_proxy.fake.latency = 0.2  # every answer takes a while: all 64 are in flight together
    bodies = [{"model": MODEL, "prompt": f"question number {i}", "max_tokens": 3, "temperature": 0} for i in range(64)]
    each = {cost(live_proxy, b) for b in bodies}
    assert len(each) == 1  # every request may cost the same: the quota pays for exactly 20
    key = user_with_quota(live_proxy, 20 * each.pop())
    answers = send_all(live_proxy, key, bodies)
    statuses = sorted(a.status_code for a in answers)
    assert len(live_proxy.fake.requests) == 20  # counted where the money is spent
    assert statuses == [200] * 20 + [429] * 44
    refused = next(a for a in answers if a.status_code == 429).json()["error"]
    assert refused["type"] == "insufficient_quota" and "daily quota of model group 'openai'" in refused["message"]
    usage = Accounts(live_proxy.base_path).get_account(key).usages["openai"]["daily"]
    assert usage.used <= usage.quota  # type: ignore[operator]


def test_a_token_quota_holds_for_requests_of_every_size(live_proxy: LiveProxy) -> None:
    live_proxy.fake.latency = 0.2
    rng = random.Random(11)
    bodies = [
        {"model": MODEL, "prompt": "word " * rng.randint(1, 30), "max_tokens": rng.randint(1, 40), "random": str(i)}
        for i in range(48)
    ]
    quota = 400
    key = user_with_quota(live_proxy, quota)
    answers = send_all(live_proxy, key, bodies)
    assert {a.status_code for a in answers} <= {200, 429}
    # the most the upstream could have been asked to spend, from the bodies it received
    sent = live_proxy.fake.requests
    spent = sum(
        cost(live_proxy, {"model": MODEL, "prompt": r.body["prompt"], "max_tokens": r.body["max_tokens"]}) for r in sent
    )
    assert 0 < len(sent) < len(bodies) and spent <= quota
    assert len(sent) == sum(a.status_code == 200 for a in answers)
    assert Accounts(live_proxy.base_path).get_account(key).usages["openai"]["daily"].used <= quota


def test_a_failed_upstream_call_releases_its_reservation_and_costs_nothing(live_proxy: LiveProxy) -> None:
    body = {"model": MODEL, "prompt": "the cat sat", "max_tokens": 2, "temperature": 0}
    key = user_with_quota(live_proxy, cost(live_proxy, body))  # enough for exactly one request
    live_proxy.fake.fail_next(Fault(status=400, message="bad request upstream"))  # fatal: not retried
    failed = send_all(live_proxy, key, [body])[0]
    assert failed.status_code == 200 and not failed.json()["success"]  # /api/request reports the failure
    assert Accounts(live_proxy.base_path).get_account(key).usages.get("openai", {}).get("daily") is not None
    assert Accounts(live_proxy.base_path).get_account(key).usages["openai"]["daily"].used == 0
    paid = send_all(live_proxy, key, [body])[0]  # the reservation was released: the quota still pays for one
    assert paid.status_code == 200 and paid.json()["success"]
    over = send_all(live_proxy, key, [{**body, "prompt": "another one"}])[0]
    assert over.status_code == 429
    again = send_all(live_proxy, key, [body])[0]  # cached answers are free, even with the quota used up
    assert again.status_code == 200 and again.json()["cached"]
    assert len(live_proxy.fake.requests) == 2
