"""The proxy handle's calls have deadlines and ride out a replica that is gone for a while (no Ray needed: the
handle is a fake with Serve's `remote(...).result(timeout_s=...)` shape)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ray.exceptions import ActorDiedError

from bench import Request
from cluster import ProxyUnavailableError
from cluster._service import ProxyHandleService
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


def _service(method: FakeMethod, *, unavailable_seconds: float, call_timeout: float = 5.0) -> ProxyHandleService:
    service = ProxyHandleService.__new__(ProxyHandleService)  # no Serve: the handle is the fake
    service._methods = {"handle_requests": method, "check_access": method}
    service._api_key = "k"
    service.deployments_file = None
    service.max_retry_seconds = 60.0
    service.call_timeout = call_timeout
    service.unavailable_seconds = unavailable_seconds
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
