"""The proxy handle's calls have deadlines (a hosted model's from its serving settings) and ride out a replica that
is gone for a while (no Ray needed: the handle is a fake with Serve's `remote(...).result(timeout_s=...)` shape)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ray.exceptions import ActorDiedError

from bench import Request
from bench.models import get_deployment
from cluster import ProxyUnavailableError
from cluster._service import CALL_MARGIN_SECONDS, CALL_TIMEOUT_SECONDS, ProxyHandleService, call_deadline
from serve import ProxyError

Outcome = Callable[[float | None], Any]


class FakeResponse:
    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        self.cancelled = False

    def result(self, timeout_s: float | None = None) -> Any:
        return self.outcome(timeout_s)

    def cancel(self) -> None:
        self.cancelled = True


class FakeMethod:
    """Answers each call with the next outcome; records the timeouts asked for."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes = list(outcomes)
        self.responses: list[FakeResponse] = []
        self.timeouts: list[float | None] = []

    def remote(self, *args: Any) -> FakeResponse:
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        response = FakeResponse(lambda timeout: (self.timeouts.append(timeout), outcome(timeout))[1])
        self.responses.append(response)
        return response


def _service(method: FakeMethod, *, unavailable_seconds: float, call_timeout: float | None = 5.0) -> ProxyHandleService:
    service = ProxyHandleService.__new__(ProxyHandleService)  # no Serve: the handle is the fake
    service._methods = {"handle_requests": method, "check_access": method}
    service._api_key = "k"
    service.deployments_file = None
    service.max_retry_seconds = 60.0
    service.call_timeout = call_timeout
    service.unavailable_seconds = unavailable_seconds
    service._deadlines = {}
    return service


def _died(timeout: float | None) -> Any:
    raise ActorDiedError()


def _timed_out(timeout: float | None) -> Any:
    raise TimeoutError(f"no answer within {timeout} s")


def _unavailable(timeout: float | None) -> Any:
    return False, ProxyError("the model's replica is unavailable; retry later", retriable=True, status=503)


def _answered(timeout: float | None) -> Any:
    from bench import RequestResult
    from serve import Answer

    return True, [Answer(result=RequestResult(success=True, completions=[]))]


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """time.sleep and time.monotonic of the service module, on a clock that moves only when it sleeps."""
    import cluster._service as module

    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(module.time, "sleep", sleep)
    monkeypatch.setattr(module.time, "monotonic", lambda: now[0])
    return slept


def test_a_dead_or_unavailable_replica_is_waited_for_and_the_call_sent_again(no_sleep: list[float]) -> None:
    method = FakeMethod(_died, _timed_out, _unavailable, _answered)
    results = _service(method, unavailable_seconds=60).make_requests([Request(model="simple/model1", prompt="p")])
    assert [r.success for r in results] == [True]
    assert no_sleep == [1.0, 2.0, 4.0]  # backoff between the four calls
    assert method.timeouts == [5.0, 5.0, 5.0, 5.0]  # every call has its deadline
    assert [r.cancelled for r in method.responses] == [True, True, False, False]  # a failed call is cancelled


def test_a_replica_that_stays_away_ends_in_a_clear_error_never_a_hang(no_sleep: list[float]) -> None:
    method = FakeMethod(_timed_out)
    with pytest.raises(ProxyUnavailableError, match=r"did not answer handle_requests for 7 s .*TimeoutError.*resume"):
        _service(method, unavailable_seconds=10).make_requests([Request(model="simple/model1", prompt="p")])
    assert no_sleep == [1.0, 2.0, 4.0]  # the next wait (8 s) would end past the 10 s budget


def test_a_refusal_that_is_not_unavailability_is_raised_at_once(no_sleep: list[float]) -> None:
    refused = ProxyError("quota exceeded", status=429)
    method = FakeMethod(lambda timeout: (False, refused))
    with pytest.raises(ProxyError, match="quota exceeded"):
        _service(method, unavailable_seconds=60).make_requests([Request(model="simple/model1", prompt="p")])
    assert no_sleep == []


HOSTED = """model_deployments:
  - name: vllm/bounded
    client: openai
    tokenizer: openai/r50k_base
    context_window: 2048
    client_args: {base_url: 'http://127.0.0.1:9/v1', credential: null, model: bounded}
    serving: {max_queue_wait_seconds: 5, retry: {max_total_seconds: 10, request_timeout_seconds: 4}}
  - name: vllm/defaults
    client: openai
    tokenizer: openai/r50k_base
    context_window: 2048
    client_args: {base_url: 'http://127.0.0.1:9/v1', credential: null, model: defaults}
"""


@pytest.fixture
def hosted_models(tmp_path: Path) -> Iterator[Path]:
    """A deployments file with two OpenAI-compatible models (their client registered by `call_deadline` itself,
    as in a shard task's process, where nothing else registers the proxy's clients)."""
    path = tmp_path / "model_deployments.yaml"
    path.write_text(HOSTED)
    yield path


@pytest.mark.usefixtures("restore_registries")
def test_a_hosted_models_call_deadline_is_its_longest_legitimate_wait(hosted_models: Path) -> None:
    from bench.models import CLIENTS

    CLIENTS.restore({name: factory for name, factory in CLIENTS.snapshot().items() if name != "openai"})
    assert "openai" not in CLIENTS  # as in a shard task's process: bench's built-ins only
    # rate-limit queue + retries that start within max_total_seconds + the last one's timeout + the margin
    assert call_deadline(get_deployment("vllm/bounded", hosted_models)) == 5 + 10 + 4 + CALL_MARGIN_SECONDS
    assert call_deadline(get_deployment("vllm/defaults", hosted_models)) == 30 + 120 + 60 + CALL_MARGIN_SECONDS
    # a model answered in the replica's own queue (local) or at once (simple) has no such bound: the fixed one
    assert call_deadline(get_deployment("simple/model1")) == CALL_TIMEOUT_SECONDS
    assert call_deadline(get_deployment("local/smollm2-135m")) == CALL_TIMEOUT_SECONDS


@pytest.mark.usefixtures("restore_registries")
def test_a_call_lost_past_its_models_deadline_is_sent_again_and_answered(
    hosted_models: Path, no_sleep: list[float]
) -> None:
    """The first call hangs (its replica's node is gone and Ray does not know yet) until the deadline the model's
    settings give; the call is cancelled and sent again, and the window for the proxy to come back starts at that
    failure, not at the first call (the deadline alone is longer than the window)."""
    import cluster._service as module

    def lost(timeout: float | None) -> Any:
        assert timeout is not None
        module.time.sleep(timeout)  # the fake clock: the whole deadline passes
        raise TimeoutError(f"no answer within {timeout} s")

    method = FakeMethod(lost, _answered)
    service = _service(method, unavailable_seconds=10, call_timeout=None)
    service.deployments_file = str(hosted_models)
    results = service.make_requests([Request(model="vllm/bounded", prompt="p")])
    assert [r.success for r in results] == [True]
    deadline = 5 + 10 + 4 + CALL_MARGIN_SECONDS
    assert method.timeouts == [deadline, deadline]
    assert no_sleep == [deadline, 1.0]  # the lost call's deadline, then the backoff before the resend
    assert [r.cancelled for r in method.responses] == [True, False]


def test_the_access_check_and_unbounded_models_keep_the_fixed_deadline(no_sleep: list[float]) -> None:
    method = FakeMethod(_answered)
    service = _service(method, unavailable_seconds=10, call_timeout=None)
    service.make_requests([Request(model="simple/model1", prompt="p")])
    method.outcomes = [lambda timeout: (True, None)]
    service.check_access(["simple/model1"])
    assert method.timeouts == [CALL_TIMEOUT_SECONDS, CALL_TIMEOUT_SECONDS]


class FakeStream:
    """A streaming handle's response: yields the items its script gives for the call's requests (the proxy's
    refusal is an item, as the ingress sends it); a Ray error is raised there. `hang` blocks the stream until it
    is cancelled (RequestCancelledError)."""

    def __init__(self, items: list[Any], hang: bool = False) -> None:
        import threading

        self.items = items
        self.hang = hang
        self.cancelled = threading.Event()

    def __iter__(self) -> Iterator[Any]:
        from ray.serve.exceptions import RequestCancelledError

        for item in self.items:
            if isinstance(item, BaseException) and not isinstance(item, ProxyError):
                raise item
            yield item
        if self.hang:
            assert self.cancelled.wait(60), "the deadline never cancelled the stream"
            raise RequestCancelledError("r")

    def cancel(self) -> None:
        self.cancelled.set()


class FakeStreamMethod:
    """Each call: its requests recorded, then the next script applied to them (a function of the requests)."""

    def __init__(self, *scripts: Callable[[list[Request]], FakeStream]) -> None:
        self.scripts = list(scripts)
        self.calls: list[list[str]] = []
        self.responses: list[FakeStream] = []

    def remote(self, api_key: str, requests: list[Request]) -> FakeStream:
        self.calls.append([r.prompt for r in requests])
        response = self.scripts.pop(0)(requests)
        self.responses.append(response)
        return response


def _answer(prompt: str, retry_after: float | None = None) -> Any:
    from bench import GeneratedOutput, RequestResult
    from serve import Answer

    return Answer(result=RequestResult(success=True, completions=[GeneratedOutput(text=prompt, logprob=0.0)]),
                  retry_after=retry_after)  # fmt: skip


def _streaming(method: FakeStreamMethod, *, call_timeout: float = 5.0) -> ProxyHandleService:
    service = _service(FakeMethod(_answered), unavailable_seconds=60, call_timeout=call_timeout)
    service._stream_answers = method
    service._streams = True
    return service


def _texts(results: list[tuple[int, Any]]) -> dict[int, str]:
    return {index: result.completions[0].text for index, result in results}


def test_a_stream_lost_midway_is_sent_again_for_its_unanswered_requests_only(no_sleep: list[float]) -> None:
    requests = [Request(model="simple/model1", prompt=p) for p in ("a", "b", "c")]
    first = lambda rs: FakeStream([[(1, _answer(rs[1].prompt))], ActorDiedError()])  # noqa: E731
    rest = lambda rs: FakeStream([[(i, _answer(r.prompt)) for i, r in enumerate(rs)]])  # noqa: E731
    method = FakeStreamMethod(first, rest)
    results = list(_streaming(method).stream_requests(requests))
    assert _texts(results) == {0: "a", 1: "b", 2: "c"} and len(results) == 3
    assert method.calls == [["a", "b", "c"], ["a", "c"]]
    assert no_sleep == [1.0]  # the backoff before the resend
    assert method.responses[0].cancelled.is_set()  # the lost stream was cancelled


def test_answers_the_rate_limit_refused_go_again_after_their_wait(no_sleep: list[float]) -> None:
    requests = [Request(model="simple/model1", prompt=p) for p in ("a", "b")]
    first = lambda rs: FakeStream([[(0, _answer("a")), (1, _answer("b", retry_after=3.0))]])  # noqa: E731
    again = lambda rs: FakeStream([[(0, _answer(rs[0].prompt))]])  # noqa: E731
    method = FakeStreamMethod(first, again)
    results = list(_streaming(method).stream_requests(requests))
    assert _texts(results) == {0: "a", 1: "b"}
    assert method.calls == [["a", "b"], ["b"]] and no_sleep == [3.0]


def test_a_stream_past_its_deadline_is_cancelled_and_sent_again(no_sleep: list[float]) -> None:
    requests = [Request(model="simple/model1", prompt=p) for p in ("a", "b")]
    hangs = lambda rs: FakeStream([[(0, _answer("a"))]], hang=True)  # noqa: E731
    rest = lambda rs: FakeStream([[(0, _answer(rs[0].prompt))]])  # noqa: E731
    method = FakeStreamMethod(hangs, rest)
    results = list(_streaming(method, call_timeout=0.2).stream_requests(requests))
    assert _texts(results) == {0: "a", 1: "b"}
    assert method.calls == [["a", "b"], ["b"]] and no_sleep == [1.0]


def test_a_refusal_in_a_stream_is_raised_and_unavailability_waited_for(no_sleep: list[float]) -> None:
    request = Request(model="simple/model1", prompt="a")
    unavailable = ProxyError("the model's replica is unavailable; retry later", retriable=True, status=503)
    refused = ProxyError("quota exceeded", status=429)
    method = FakeStreamMethod(lambda rs: FakeStream([unavailable]), lambda rs: FakeStream([refused]))
    with pytest.raises(ProxyError, match="quota exceeded"):
        list(_streaming(method).stream_requests([request]))
    assert no_sleep == [1.0]


def test_a_proxy_app_without_streams_is_called_whole(no_sleep: list[float]) -> None:
    """An app deployed by an earlier Mercury has no `stream_answers`: the calls go whole, at once and after."""
    from ray.serve.exceptions import RayServeException

    missing = RayServeException("Tried to call a method 'stream_answers' that does not exist. Available methods: []")
    method = FakeStreamMethod(lambda rs: FakeStream([missing]))
    service = _streaming(method)
    request = Request(model="simple/model1", prompt="a")
    assert [i for i, r in service.stream_requests([request])] == [0]
    assert [i for i, r in service.stream_requests([request])] == [0]
    assert len(method.calls) == 1 and no_sleep == []
