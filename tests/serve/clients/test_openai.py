"""The openai client against a real HTTP server on loopback, through the real `openai` library."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from bench import ChatMessage, Credentials, ModelUnavailableError, Request, RequestResult
from bench.models import CLIENTS, InProcessService, ModelDeployment, StreamCancelled, TextDelta
from serve import CredentialMissingError, RetryConfig, register_clients
from serve.clients import OpenAIClient, Retrier
from tests.serve.fake_openai import FakeOpenAI, Fault

KEY = "sk-test-0123456789abcdef"
FAST = RetryConfig(max_attempts=4, max_total_seconds=5.0, initial_backoff_seconds=0.01, max_backoff_seconds=0.05)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY) as fake:
        yield fake


def make_client(server: FakeOpenAI, retry: RetryConfig = FAST, **client_args: Any) -> OpenAIClient:
    deployment = ModelDeployment(
        name="openai/davinci",
        client="openai",
        tokenizer="openai/r50k_base",
        context_window=2048,
        client_args={"base_url": server.base_url, **client_args},
    )
    credentials = Credentials({"openaiApiKey": SecretStr(KEY)})
    return OpenAIClient(deployment, credentials=credentials, retrier=Retrier(retry))


def test_completion_with_echo_translates_logprobs(server: FakeOpenAI) -> None:
    request = Request(model="openai/davinci", prompt="Hi there", max_tokens=2, echo_prompt=True, top_k_per_token=2)
    result = make_client(server).make_request(request)
    assert result.success and not result.cached and result.request_time is not None
    (output,) = result.completions
    assert output.text == "Hi there Paris is"
    assert [t.text for t in output.tokens] == ["Hi", " there", " Paris", " is"]
    # first prompt token has no logprob (0.0, no alternatives); prompt tokens -1.0; completion -0.1, -0.2
    assert [t.logprob for t in output.tokens] == pytest.approx([0.0, -1.0, -0.1, -0.2])
    assert output.tokens[0].top_logprobs == {}
    assert output.tokens[2].top_logprobs == pytest.approx({" Paris": -0.1, " alt1": -1.1})
    assert output.logprob == pytest.approx(-1.3)
    assert output.finish_reason == "length"
    sent = server.requests[-1]
    assert sent.path == "/v1/completions" and sent.authorization == f"Bearer {KEY}"
    assert sent.body["echo"] is True and sent.body["logprobs"] == 2 and sent.body["model"] == "davinci"


def test_stop_sequence_and_several_completions(server: FakeOpenAI) -> None:
    request = Request(model="openai/davinci", prompt="Q", max_tokens=5, num_completions=2, stop_sequences=(" the",))
    result = make_client(server).make_request(request)
    # completion 0 starts at " Paris", completion 1 at " is" (temperature 1)
    assert [c.text for c in result.completions] == [" Paris is", " is"]
    assert [c.finish_reason for c in result.completions] == ["stop", "stop"]
    assert server.requests[-1].body["stop"] == [" the"]


def test_chat_with_messages_and_top_logprobs(server: FakeOpenAI) -> None:
    client = make_client(server, api="chat")
    messages = (ChatMessage(role="system", content="Be brief."), ChatMessage(role="user", content="Capital?"))
    result = client.make_request(
        Request(model="openai/davinci", messages=messages, max_tokens=1, temperature=0, top_k_per_token=3)
    )
    (output,) = result.completions
    assert output.text == " Paris" and output.logprob == pytest.approx(-0.1)
    assert output.tokens[0].top_logprobs == pytest.approx({" Paris": -0.1, " alt1": -1.1, " alt2": -2.1})
    body = server.requests[-1].body
    assert body["messages"] == [m.model_dump() for m in messages]
    assert (body["logprobs"], body["top_logprobs"]) == (True, 3)


def test_chat_refuses_echo_without_calling(server: FakeOpenAI) -> None:
    result = make_client(server, api="chat").make_request(Request(model="openai/davinci", prompt="x", echo_prompt=True))
    assert (result.success, result.error_kind) == (False, "fatal")
    assert "echo_prompt is not supported" in (result.error or "")
    assert server.requests == []


@pytest.mark.parametrize(
    "fault",
    [Fault(status=429, retry_after="0"), Fault(status=500), Fault(status=503), Fault(drop=True)],
    ids=["429", "500", "503", "dropped"],
)
def test_retriable_failures_are_retried(server: FakeOpenAI, fault: Fault) -> None:
    server.fail_next(fault, fault)
    result = make_client(server).make_request(Request(model="openai/davinci", prompt="Q", max_tokens=1))
    assert result.success and result.completions[0].text == " Paris"
    assert len(server.requests) == 3


def test_retry_after_is_honoured(server: FakeOpenAI) -> None:
    server.fail_next(Fault(status=429, retry_after="0.3", message="slow down"))
    started = time.monotonic()
    assert make_client(server).make_request(Request(model="openai/davinci", prompt="Q", max_tokens=1)).success
    assert time.monotonic() - started >= 0.3


def test_retries_are_bounded_in_attempts(server: FakeOpenAI) -> None:
    server.fail_next(*[Fault(status=500, message="overloaded")] * 10)
    result = make_client(server).make_request(Request(model="openai/davinci", prompt="Q"))
    assert (result.success, result.error_kind) == (False, "retriable")
    assert "HTTP 500: overloaded" in (result.error or "")
    assert len(server.requests) == FAST.max_attempts


def test_retries_are_bounded_in_total_time(server: FakeOpenAI) -> None:
    # each attempt takes 0.15 s; the budget of 0.4 s leaves room for about three, never all ten
    server.fail_next(*[Fault(status=500, delay=0.15)] * 10)
    retry = RetryConfig(max_attempts=10, max_total_seconds=0.4, initial_backoff_seconds=0.01, max_backoff_seconds=0.01)
    started = time.monotonic()
    result = make_client(server, retry).make_request(Request(model="openai/davinci", prompt="Q"))
    assert not result.success and result.error_kind == "retriable"
    assert time.monotonic() - started < 0.8
    assert 2 <= len(server.requests) <= 4


def test_timeout_is_retriable(server: FakeOpenAI) -> None:
    server.fail_next(Fault(delay=1.0), Fault(delay=1.0))
    retry = RetryConfig(max_attempts=2, max_total_seconds=5, initial_backoff_seconds=0.01, request_timeout_seconds=0.2)
    result = make_client(server, retry).make_request(Request(model="openai/davinci", prompt="Q"))
    assert (result.success, result.error_kind) == (False, "retriable")
    assert "timeout" in (result.error or "")


def test_an_answer_that_is_not_a_completion_is_a_retriable_failure(server: FakeOpenAI) -> None:
    """The answer's JSON is read as it is (no SDK models): a 200 without `choices` is said, not a crash."""
    server.routes["/v1/completions"] = lambda body: {"object": "error", "detail": "overloaded"}
    result = make_client(server, RetryConfig(max_attempts=1)).make_request(Request(model="openai/davinci", prompt="Q"))
    assert (result.success, result.error_kind) == (False, "retriable")
    assert "HTTP 200 with a body that is not a completion" in (result.error or "")


def test_400_returns_at_once_with_the_providers_message(server: FakeOpenAI) -> None:
    server.fail_next(Fault(status=400, message="This model's maximum context length is 2049 tokens"))
    result = make_client(server).make_request(Request(model="openai/davinci", prompt="Q"))
    assert (result.success, result.error_kind) == (False, "fatal")
    assert (
        result.error == "openai/davinci: provider answered HTTP 400: This model's maximum context length is 2049 tokens"
    )
    assert len(server.requests) == 1


def test_no_secret_in_errors(server: FakeOpenAI) -> None:
    client = make_client(server)
    client.sdk.api_key = "sk-wrong-key-abcdefgh"  # the server answers 401 echoing a masked form of it
    result = client.make_request(Request(model="openai/davinci", prompt="Q"))
    assert result.error_kind == "fatal" and "HTTP 401" in (result.error or "")
    assert (
        "sk-" not in (result.error or "")
        and "abcdefgh" not in (result.error or "")
        and "efgh" not in (result.error or "")
    )
    server.fail_next(Fault(status=400, message=f"you sent {KEY}"))
    result = make_client(server).make_request(Request(model="openai/davinci", prompt="Q"))
    assert KEY not in (result.error or "") and "***" in (result.error or "")


def test_missing_credential_names_the_key(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    deployment = ModelDeployment(name="openai/davinci", client="openai", tokenizer="t", context_window=10)
    with pytest.raises(CredentialMissingError, match=r"openai/davinci: unavailable: missing credential 'openaiApiKey'"):
        OpenAIClient(deployment, credentials=Credentials({}, source=str(tmp_path / "credentials.conf")))


def test_registered_for_in_process_service(
    server: FakeOpenAI, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, restore_registries: None
) -> None:
    register_clients()
    assert "openai" in CLIENTS and "ai21" in CLIENTS
    (tmp_path / "model_deployments.yaml").write_text(
        "model_deployments:\n"
        f"  - {{name: vllm/tiny, client: openai, tokenizer: openai/r50k_base, context_window: 100,\n"
        f"     client_args: {{base_url: '{server.base_url}', model: tiny}},\n"
        "     serving: {retry: {initial_backoff_seconds: 0.01}}}\n"
        "  - {name: openai/nokey, client: openai, tokenizer: openai/r50k_base, context_window: 100}\n"
    )
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "credentials.conf").write_text(f"openaiApiKey: {KEY}\n")
    monkeypatch.setenv("MERCURY_PROD_ENV", str(tmp_path / "env"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    service = InProcessService(tmp_path / "model_deployments.yaml")
    (result,) = service.make_requests([Request(model="vllm/tiny", prompt="Q", max_tokens=1)])
    assert result.success and server.requests[-1].body["model"] == "tiny"
    (tmp_path / "env" / "credentials.conf").write_text("")
    with pytest.raises(ModelUnavailableError, match="missing credential 'openaiApiKey'"):
        service.make_requests([Request(model="openai/nokey", prompt="Q")])


# --- streaming -------------------------------------------------------------------------------------------


def stream(client: OpenAIClient, request: Request) -> tuple[RequestResult, list[TextDelta]]:
    sent: list[TextDelta] = []
    return client.stream_request(request, sent.append), sent


@pytest.mark.parametrize("api", ["completions", "chat"])
def test_a_streamed_answer_equals_the_whole_answer(server: FakeOpenAI, api: str) -> None:
    client = make_client(server, api=api)
    request = Request(model="openai/davinci", prompt="Q", max_tokens=5, num_completions=2, stop_sequences=(" the",))
    streamed, sent = stream(client, request)
    whole = client.make_request(request)
    assert streamed.success and streamed.completions == whole.completions
    assert server.requests[0].body["stream"] is True and "stream" not in server.requests[1].body
    for index, output in enumerate(whole.completions):
        assert [d.text for d in sent if d.index == index] == [t.text for t in output.tokens]
    assert [o.text for o in whole.completions] == [" Paris is", " is"]  # completion 1 starts a word later
    assert server.stream_outcomes == ["completed"]


def test_a_failure_before_the_first_token_is_retried(server: FakeOpenAI) -> None:
    server.fail_next(Fault(status=500, message="hiccup"))
    streamed, sent = stream(make_client(server), Request(model="openai/davinci", prompt="Q", max_tokens=2))
    assert streamed.success and "".join(d.text for d in sent) == " Paris is"
    assert len(server.requests) == 2


def test_a_cancelled_stream_closes_the_connection(server: FakeOpenAI) -> None:
    server.hold_streams(chunk_delay=0.01).set()  # released at once: only the delay between chunks matters

    def on_delta(delta: TextDelta) -> None:
        raise StreamCancelled()

    with pytest.raises(StreamCancelled):
        make_client(server).stream_request(Request(model="openai/davinci", prompt="Q", max_tokens=500), on_delta)
    assert server.stream_ended.wait(60)
    assert server.stream_outcomes == ["aborted"]  # the server noticed long before its 500th token


def test_building_the_client_checks_it_without_importing_the_library() -> None:
    """benchmark-run's driver builds the client to check the model and its key before its shards run on Ray: the
    `openai` library (~1 s of imports on 2 cores) is imported only when a request is sent."""
    program = textwrap.dedent("""
        import sys
        from bench.models import ModelDeployment
        from serve.clients import OpenAIClient
        deployment = ModelDeployment(name="vllm/m", client="openai", tokenizer="openai/r50k_base", context_window=2048,
                                     client_args={"base_url": "http://127.0.0.1:9/v1", "credential": None})
        client = OpenAIClient(deployment)
        assert "openai" not in sys.modules, "imported by the check"
        client.sdk
        assert "openai" in sys.modules
    """)
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("api", ["completions", "chat"])
def test_a_request_goes_out_as_the_sdk_s_create_would_send_it(server: FakeOpenAI, api: str) -> None:
    """The client posts the body itself (skipping the SDK's parameter conversion): the path, body and key that
    reach the server equal what `completions.create` / `chat.completions.create` send for the same fields."""
    client = make_client(server, api=api)
    request = Request(model="openai/davinci", prompt="Hi", max_tokens=3, top_k_per_token=2, stop_sequences=("\n",))
    assert client.make_request(request).success
    ours = server.requests[-1]
    fields = {k: v for k, v in client.provider_request(request).items() if k != "endpoint"}
    create = client.sdk.chat.completions.create if api == "chat" else client.sdk.completions.create
    create(**fields)
    theirs = server.requests[-1]
    assert (ours.path, ours.body, ours.authorization) == (theirs.path, theirs.body, theirs.authorization)
