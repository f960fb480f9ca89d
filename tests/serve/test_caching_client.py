"""A provider client behind the cache: the openai client and the fake server, end to end."""

from __future__ import annotations

from pathlib import Path

from bench import Credentials, Request
from bench.models import ModelDeployment
from serve import CachingClient, ResultCache, RetryConfig
from serve.clients import OpenAIClient, Retrier
from tests.serve.fake_openai import FakeOpenAI, Fault


def test_hits_misses_random_and_uncached_failures(tmp_path: Path) -> None:
    with FakeOpenAI() as server:
        deployment = ModelDeployment(
            name="openai/davinci",
            client="openai",
            tokenizer="t",
            context_window=100,
            client_args={"base_url": server.base_url, "credential": None},
        )
        retry = RetryConfig(max_attempts=1)
        client = CachingClient(
            OpenAIClient(deployment, credentials=Credentials({}), retrier=Retrier(retry)),
            ResultCache(tmp_path, "openai"),
        )
        request = Request(model="openai/davinci", prompt="Q", max_tokens=1)
        server.fail_next(Fault(status=500))
        assert not client.make_request(request).success  # failure: not cached
        first = client.make_request(request)
        again = client.make_request(request)
        assert (first.cached, again.cached) == (False, True) and again.request_time == first.request_time
        salted = client.make_request(request.model_copy(update={"random": "2"}))
        assert not salted.cached
        assert len(server.requests) == 3  # the failure, the first success, the salted one
        assert server.requests[0].authorization == "Bearer no-key"
