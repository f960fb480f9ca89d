"""The in-process executor: order kept, batches used, a failing service recorded, not fatal."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from bench import GeneratedOutput, Instance, Request, RequestResult
from bench.adaptation import RequestState
from bench.runner import Executor


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
    done = Executor(service, parallelism=3, batch_size=4).execute(_states(prompts), progress.append)
    assert [s.result.completions[0].text for s in done if s.result] == prompts
    assert sorted(service.batch_sizes) == [2, 4, 4]
    assert sum(progress) == 10


def test_failing_batch_becomes_error_results() -> None:
    done = Executor(EchoService(), parallelism=2, batch_size=2).execute(_states(["a", "b", "boom", "c"]))
    results = [s.result for s in done]
    assert [r.success for r in results if r] == [True, True, False, False]
    failed = done[2].result
    # the service, not the model, failed: a rerun sends these requests again
    assert failed is not None and failed.error == "ConnectionError: service down" and failed.error_kind == "retriable"
