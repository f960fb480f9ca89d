"""The request sender: order kept, batches used, a failing service recorded, not fatal."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

from bench import GeneratedOutput, Instance, Request, RequestResult
from bench.adaptation import RequestState
from bench.models import StreamingModelService
from bench.runner import RequestSender


class EchoService:
    """Answers each request with its prompt; fails a batch whose prompt says 'boom'."""

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []
        self.lock = threading.Lock()

    def make_requests(self, requests: Sequence[Request]) -> list[RequestResult]:
        with self.lock:
            self.batch_sizes.append(len(requests))
        if any(r.prompt == "boom" for r in requests):
            raise ConnectionError("service down")
        return [
            RequestResult(success=True, completions=(GeneratedOutput(text=r.prompt, logprob=0.0),)) for r in requests
        ]


def _states(prompts: list[str]) -> list[RequestState]:
    return [
        RequestState(instance=Instance(input=p, id=f"id{k}"), request=Request(model="simple/model1", prompt=p))
        for k, p in enumerate(prompts)
    ]


def test_results_in_order_with_batches() -> None:
    service = EchoService()
    progress: list[int] = []
    prompts = [f"p{k}" for k in range(10)]
    done = RequestSender(service, parallelism=3, batch_size=4).execute(_states(prompts), progress.append)
    assert [s.result.completions[0].text for s in done if s.result] == prompts
    assert sorted(service.batch_sizes) == [2, 4, 4]
    assert sum(progress) == 10


def test_failing_batch_becomes_error_results() -> None:
    done = RequestSender(EchoService(), parallelism=2, batch_size=2).execute(_states(["a", "b", "boom", "c"]))
    results = [s.result for s in done]
    assert [r.success for r in results if r] == [True, True, False, False]
    failed = done[2].result
    # the service, not the model, failed: a rerun sends these requests again
    assert failed is not None and failed.error == "ConnectionError: service down" and failed.error_kind == "retriable"


class StreamingEcho(EchoService):
    """EchoService with the rest of `StreamingModelService` (what the request sender checks for a stream)."""

    def get_model_tokenizer(self, model: str) -> Any:
        raise NotImplementedError

    def get_deployment(self, model: str) -> Any:
        raise NotImplementedError

    def stream_requests(self, requests: Sequence[Request]) -> Iterator[tuple[int, RequestResult]]:
        raise NotImplementedError


class HeldService(StreamingEcho):
    """A streaming service: each call's answers come one by one, as each request ends; a request whose prompt
    starts with 'held' ends only when `release` is set. Counts the requests in flight (sent, not answered)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.in_flight = 0
        self.most_in_flight = 0
        self.answered = 0
        self.all_others_answered = threading.Event()
        self.expected_others = 0

    def stream_requests(self, requests: Sequence[Request]) -> Iterator[tuple[int, RequestResult]]:
        with self.lock:
            self.batch_sizes.append(len(requests))
            self.in_flight += len(requests)
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        order = sorted(range(len(requests)), key=lambda i: requests[i].prompt.startswith("held"))
        for index in order:  # the quick ones first; a held one waits for the test's release
            if requests[index].prompt.startswith("held"):
                assert self.release.wait(60), "never released"
            (result,) = self.make_requests([requests[index]])
            with self.lock:
                self.in_flight -= 1
                if not requests[index].prompt.startswith("held"):
                    self.answered += 1
                    if self.answered == self.expected_others:
                        self.all_others_answered.set()
            yield index, result


def test_a_streaming_service_gets_a_sliding_window_not_lock_step_batches() -> None:
    assert isinstance(HeldService(), StreamingModelService)
    """One request of the first batch is held: lock-step batches would keep its batch's other slots idle
    until it ends; the window sends the next calls as slots free up, so every other request is answered while
    it is held, with never more than parallelism x batch_size in flight."""
    service = HeldService()
    prompts = ["held", *[f"p{k}" for k in range(1, 20)]]
    service.expected_others = 19
    sender = RequestSender(service, parallelism=2, batch_size=4)
    done: list[RequestState] = []
    worker = threading.Thread(target=lambda: done.extend(sender.execute(_states(prompts))))
    worker.start()
    assert service.all_others_answered.wait(60), "the held request held back the others"
    service.release.set()
    worker.join(60)
    assert [s.result.completions[0].text for s in done if s.result] == prompts  # in order
    assert service.most_in_flight <= 8  # never more than the window
    assert sum(service.batch_sizes) == 40  # each request once (make_requests counted again inside)


def test_a_stream_that_fails_midway_keeps_its_answers_and_fails_only_the_rest() -> None:
    class Failing(StreamingEcho):
        def stream_requests(self, requests: Sequence[Request]) -> Iterator[tuple[int, RequestResult]]:
            for index, request in enumerate(requests):
                if request.prompt == "boom":
                    raise ConnectionError("stream lost")
                yield index, self.make_requests([request])[0]

    done = RequestSender(Failing(), parallelism=2, batch_size=3).execute(_states(["a", "b", "boom", "c", "d"]))
    assert [s.result.success for s in done if s.result] == [True, True, False, True, True]
    failed = done[2].result
    assert failed is not None and failed.error == "ConnectionError: stream lost" and failed.error_kind == "retriable"
