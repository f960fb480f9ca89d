"""Finding 2 of issue 11 over HTTP: an admin's PUT of a negative quota is a 400 naming the field, and the
state folder still loads afterwards (before, it answered 200 and every later start answered 500)."""

from __future__ import annotations

import httpx

from serve import Accounts, local_service
from serve._http import build_http_app
from tests.serve.conftest import LiveProxy, _Uvicorn

SIMPLE = {"model": "simple/model1", "prompt": "the cat sat", "max_tokens": 2, "temperature": 0}


def test_a_negative_quota_is_a_400_naming_the_field_and_the_proxy_restarts(live_proxy: LiveProxy) -> None:
    admin = {"Authorization": f"Bearer {live_proxy.admin_key}"}
    user = httpx.post(
        live_proxy.url + "/api/account", json={"account": {"description": "u"}}, headers=admin, timeout=60
    )
    user_key = user.json()["api_key"]
    refused = httpx.put(
        live_proxy.url + "/api/account",
        json={"account": {"api_key": user_key, "quotas": {"simple": {"daily": -5}}}},
        headers=admin,
        timeout=60,
    )
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert "'usages.simple.daily.quota'" in error["message"] and "greater than or equal to 0" in error["message"]
    assert "(got -5)" in error["message"] and user_key not in error["message"]
    # a fresh proxy on the same state folder (a restart) loads every account and answers
    assert Accounts(live_proxy.base_path).get_account(live_proxy.admin_key).is_admin
    with _Uvicorn(build_http_app(local_service(live_proxy.config))) as restarted:
        answer = httpx.post(
            f"http://127.0.0.1:{restarted.port}/api/request",
            json={"request": SIMPLE},
            headers={"Authorization": f"Bearer {user_key}"},
            timeout=120,
        )
    assert answer.status_code == 200 and answer.json()["success"]
