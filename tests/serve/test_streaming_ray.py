"""Streaming through the proxy app on Ray Serve, with the `openai` library as the client: the first chunk
comes while the provider is still producing (the fake's stream is held after its first token; the local
model is still generating), a client that disconnects cancels the provider's work, the usage chunk, and
streamed text equal to the whole answer. Ordering is asserted on events, never on elapsed times."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import openai
import pytest
import yaml

from serve import Accounts, ProxyAppConfig, StreamStats
from tests.serve.conftest import write_deployments
from tests.serve.fake_openai import FakeOpenAI

APP = "streaming-test"
LOCAL = "local/smollm2-135m"
DEADLINE = 120.0  # seconds any wait for the app may take before the test fails (a liveness bound)


@dataclass
class RayProxy:
    url: str
    admin_key: str
    fake: FakeOpenAI

    def sdk(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.url + "/v1", api_key=self.admin_key, max_retries=0, timeout=DEADLINE)


@pytest.fixture(scope="module")
def ray_proxy(ray_serve_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RayProxy]:
    from ray import serve

    from serve._app import build_app

    folder = tmp_path_factory.mktemp("streaming_ray")
    with FakeOpenAI() as fake:
        path = write_deployments(folder, fake.base_url)
        entries = yaml.safe_load(path.read_text())["model_deployments"]
        local = {"name": LOCAL, "client": "local", "tokenizer": "huggingface/smollm2-135m", "context_window": 8192}
        local["serving"] = {"num_cpus": 0.2, "batching": {"max_batch_size": 8, "batch_wait_timeout_s": 0.05}}
        path.write_text(yaml.safe_dump({"model_deployments": [*entries, local]}))
        models = ["simple/model1", "openai/fake", "openai/chatty", LOCAL]
        config = ProxyAppConfig(base_path=str(folder / "prod_env"), deployments_file=str(path), models=models)
        key = Accounts(config.base_path).ensure_admin()
        assert key is not None
        serve.run(build_app(config), name=APP, route_prefix="/")
        yield RayProxy(f"http://127.0.0.1:{ray_serve_port}", key, fake)
        serve.delete(APP)


def stream_stats(provider: str) -> StreamStats:
    """The streams of the provider's (single) replica so far."""
    from ray import serve

    stats: StreamStats = serve.get_deployment_handle(f"provider-{provider}", APP).stream_stats.remote().result()
    return stats


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_usage_chunk_and_the_same_text_as_the_whole_answer(ray_proxy: RayProxy) -> None:
    fields: dict[str, Any] = {"model": "simple/model1", "prompt": "the cat sat", "max_tokens": 3, "temperature": 0}
    usage_asked: dict[str, Any] = {"stream": True, "stream_options": {"include_usage": True}}
    chunks = list(ray_proxy.sdk().completions.create(**fields, **usage_asked))
    whole = ray_proxy.sdk().completions.create(**fields)
    assert "".join(c.choices[0].text for c in chunks if c.choices) == whole.choices[0].text == " sat\n sat"
    assert chunks[-1].choices == [] and chunks[-1].usage == whole.usage


def test_the_first_chunk_comes_while_the_upstream_is_still_streaming(ray_proxy: RayProxy) -> None:
    gate = ray_proxy.fake.hold_streams()  # the fake sends its first token, then waits for the test
    stream = ray_proxy.sdk().chat.completions.create(
        model="openai/chatty", messages=[{"role": "user", "content": "Hi"}], max_tokens=3, stream=True, seed=1
    )
    chunks = iter(stream)
    role, first = next(chunks), next(chunks)
    assert role.choices[0].delta.role == "assistant" and first.choices[0].delta.content == " Paris"
    assert not ray_proxy.fake.gate_timed_out and not ray_proxy.fake.stream_ended.is_set()
    gate.set()
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == " is the"
    assert ray_proxy.fake.stream_outcomes[-1] == "completed"


def test_a_client_that_disconnects_cancels_the_upstream_stream(ray_proxy: RayProxy) -> None:
    before = stream_stats("openai")
    gate = ray_proxy.fake.hold_streams(chunk_delay=0.01)
    stream = ray_proxy.sdk().completions.create(model="openai/fake", prompt="Q", max_tokens=500, stream=True, seed=2)
    assert next(iter(stream)).choices[0].text == " Paris"
    stream.close()  # the client goes away mid-stream
    wait_for(lambda: stream_stats("openai").cancelled > before.cancelled, "the provider to cancel the stream")
    gate.set()  # the fake goes on writing, into a connection the provider has closed
    assert ray_proxy.fake.stream_ended.wait(DEADLINE)
    assert ray_proxy.fake.stream_outcomes[-1] == "aborted"
    assert stream_stats("openai").completed == before.completed


@pytest.mark.slow
def test_the_local_model_streams_as_it_generates(ray_proxy: RayProxy) -> None:
    sdk = ray_proxy.sdk()
    fields: dict[str, Any] = {"model": LOCAL, "prompt": "The capital of France is", "max_tokens": 12, "temperature": 0}
    usage_asked: dict[str, Any] = {"stream": True, "stream_options": {"include_usage": True}}
    chunks = list(sdk.completions.create(**fields, **usage_asked, seed=1))
    whole = sdk.completions.create(**fields, seed=2)  # another seed: generated afresh (greedy: the same text)
    streamed = [c.choices[0].text for c in chunks if c.choices and c.choices[0].text]
    assert "".join(streamed) == whole.choices[0].text and len(streamed) > 1
    assert chunks[-1].usage == whole.usage

    # A long generation: the client reads one chunk and leaves. Had the chunks been cut from the finished
    # completion, all 300 tokens would have been generated before the first chunk came.
    before = stream_stats("local")
    stream = sdk.completions.create(model=LOCAL, prompt="Count: 1, 2, 3,", max_tokens=300, temperature=0, stream=True)
    assert next(iter(stream)).choices[0].text
    stream.close()
    wait_for(lambda: stream_stats("local").cancelled > before.cancelled, "the generation to be cancelled")
    after = stream_stats("local")
    assert after.completed == before.completed and after.deltas - before.deltas < 300
    assert sdk.completions.create(**{**fields, "max_tokens": 1}).choices[0].text  # the model is free again
