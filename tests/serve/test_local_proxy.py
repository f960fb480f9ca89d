"""`LocalProxyService`: the proxy's services in this process answer a runner's requests with an account's key,
through the same accounts, quotas and cache (the state folder's files) as the app on Ray; and `app_only_models`
names the models that must not be served outside the app (their limiter, their batching replica are its)."""

from __future__ import annotations

import pytest

from bench import Request
from serve import Accounts, AuthenticationError, LocalProxyService, ProxyAppConfig, app_only_models
from tests.serve.fake_openai import FakeOpenAI


def _key(config: ProxyAppConfig) -> str:
    key = Accounts(config.base_path).create_local_account("test").api_key
    assert key is not None
    return key


def test_requests_are_charged_to_the_account_and_answered_from_the_shared_cache_the_second_time(
    proxy_config: ProxyAppConfig, fake_openai: FakeOpenAI
) -> None:
    config = proxy_config.model_copy(update={"models": ["simple/model1", "openai/fake"]})
    key = _key(config)
    requests = [
        Request(model="openai/fake", prompt="the quick brown fox", max_tokens=3),
        Request(model="simple/model1", prompt="jumps over the dog", max_tokens=2),
    ]
    first = LocalProxyService(config, key)
    try:
        first.check_access(["openai/fake", "simple/model1"])
        answers = first.make_requests(requests)
    finally:
        first.close()
    assert [a.success for a in answers] == [True, True] and not any(a.cached for a in answers)
    assert len(fake_openai.requests) == 1
    usage = Accounts(config.base_path).get_account(key).usages["openai"]["total"].used
    assert usage > 0  # only the uncached request to the hosted model is charged

    # another service, as a later command would build: the answers come from the state folder's cache
    again = LocalProxyService(config, key)
    try:
        cached = again.make_requests(requests)
    finally:
        again.close()
    assert [a.cached for a in cached] == [True, True]
    assert [a.completions[0].text for a in cached] == [a.completions[0].text for a in answers]
    assert len(fake_openai.requests) == 1
    assert Accounts(config.base_path).get_account(key).usages["openai"]["total"].used == usage


def test_a_key_of_no_account_is_refused_before_any_request(proxy_config: ProxyAppConfig) -> None:
    service = LocalProxyService(proxy_config.model_copy(update={"models": ["simple/model1"]}), "not-a-key")
    try:
        with pytest.raises(AuthenticationError):
            service.check_access(["simple/model1"])
    finally:
        service.close()
    assert "not-a-key" not in repr(service)


def test_app_only_models_are_those_with_a_rate_limit_or_batching_across_callers(proxy_config: ProxyAppConfig) -> None:
    models = ["simple/model1", "openai/limited", "openai/fake"]  # simple/model1 is batched on Ray here
    assert app_only_models(proxy_config, models) == {
        "simple/model1": "batching across callers",
        "openai/limited": "a rate limit",
    }
    assert app_only_models(proxy_config, ["openai/fake"]) == {}


def test_the_service_tells_the_runner_about_models(proxy_config: ProxyAppConfig) -> None:
    service = LocalProxyService(proxy_config.model_copy(update={"models": ["simple/model1"]}), "unused")
    try:
        assert service.get_deployment("openai/fake").context_window == 2048  # every model of the file
        assert service.get_model_tokenizer("simple/model1").encode("a b c")
    finally:
        service.close()
