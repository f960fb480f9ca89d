"""`ProxyClient` against a proxy on loopback: requests, the batch endpoint, accounts, errors."""

from __future__ import annotations

import pytest

from bench import Request
from bench.models import ModelService
from serve import ProxyClient, ProxyError
from tests.serve.conftest import LiveProxy


def test_requests_batches_and_account(live_proxy: LiveProxy) -> None:
    client = ProxyClient(
        live_proxy.url, live_proxy.admin_key, batch_size=2, deployments_file=live_proxy.config.deployments_file
    )
    assert isinstance(client, ModelService)
    request = Request(model="simple/model1", prompt="the cat sat", max_tokens=2, temperature=0)
    first = client.make_request(request)
    assert first.completions[0].text == " sat\n" and not first.cached
    many = client.make_requests([request, request.model_copy(update={"prompt": "a dog ran"}), request])
    assert [r.cached for r in many] == [True, False, True]  # three requests in two calls of batch size 2
    assert client.get_account().usages["simple"]["total"].used == 10
    assert client.tokenize("simple/model1", "hello world")["tokens"] == ["hello", " world"]
    assert client.get_deployment("openai/fake").client == "openai"
    assert client.get_model_tokenizer("simple/model1").count_tokens("hello world") == 2
    client.close()


def test_errors_raise_proxy_errors_with_status(live_proxy: LiveProxy) -> None:
    with pytest.raises(ProxyError, match="HTTP 401: invalid API key") as error:
        ProxyClient(live_proxy.url, "wrong").get_account()
    assert error.value.status == 401
    with pytest.raises(ProxyError, match="HTTP 404: unknown model 'x/y'"):
        ProxyClient(live_proxy.url, live_proxy.admin_key).make_request(Request(model="x/y"))
