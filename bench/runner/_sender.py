"""`RequestSender`: sends a shard's request states to a ModelService and keeps each result, in order."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from bench._request import RequestResult
from bench.adaptation import RequestState
from bench.models import ModelService, StreamingModelService

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]


class RequestSender:
    """Executes request states, `parallelism` x `batch_size` requests in flight, keeping their order.

    Requests go in calls of `batch_size` (a call costs the service more than a request). A service that gives
    each answer as it is ready (`StreamingModelService`: the proxy) gets a sliding window: a new call goes as
    soon as `batch_size` of the window's requests have ended, whichever calls they were in, so the slots of
    answered requests do not wait for their batch's slowest (an LLM's answers take from a second to minutes:
    lock-step batches keep much of the window idle). Never fewer requests in flight than lock-step batches
    (with parallelism 1 the window is one batch, as before). Another service gets `parallelism` calls at a
    time, each waiting for its whole batch.
    """

    def __init__(self, service: ModelService, *, parallelism: int = 4, batch_size: int = 8) -> None:
        self.service = service
        self.parallelism = max(1, parallelism)
        self.batch_size = max(1, batch_size)

    def execute(
        self, request_states: Sequence[RequestState], on_progress: ProgressCallback | None = None
    ) -> list[RequestState]:
        """Request states with their results, in the order given.

        A call that raises (an unreachable service, or a bug; not a model's answer) fails its requests that
        have no result yet with a retriable error result naming the exception, so finished work is never lost
        and a rerun sends them again (bench.runner._failures).
        """
        if isinstance(self.service, StreamingModelService):
            results = self._windowed(self.service, request_states, on_progress)
            return [state.with_result(result) for state, result in zip(request_states, results)]
        batches = [
            list(request_states[i : i + self.batch_size]) for i in range(0, len(request_states), self.batch_size)
        ]

        def run(batch: list[RequestState]) -> list[RequestState]:
            try:
                results = self.service.make_requests([state.request for state in batch])
            except Exception as e:  # the service itself failed: record it on each request, keep going
                logger.exception("a batch of %d requests failed", len(batch))
                results = [_failure(e)] * len(batch)
            if len(results) != len(batch):
                raise RuntimeError(f"service returned {len(results)} results for {len(batch)} requests")
            if on_progress is not None:
                on_progress(len(batch))
            return [state.with_result(result) for state, result in zip(batch, results)]

        if self.parallelism == 1 or len(batches) <= 1:
            done = [run(batch) for batch in batches]
        else:
            with ThreadPoolExecutor(self.parallelism, thread_name_prefix="sender") as pool:
                done = list(pool.map(run, batches))
        return [state for batch in done for state in batch]

    def _windowed(
        self,
        service: StreamingModelService,
        request_states: Sequence[RequestState],
        on_progress: ProgressCallback | None,
    ) -> list[RequestResult]:
        """Results in order, at most `parallelism` x `batch_size` requests in flight (see the class)."""
        results: list[RequestResult | None] = [None] * len(request_states)
        window = self.parallelism * self.batch_size
        free = threading.Semaphore(window)  # a slot per request in flight

        def run(start: int, states: Sequence[RequestState]) -> None:
            answered: set[int] = set()

            def done(position: int, result: RequestResult) -> None:
                results[start + position] = result
                answered.add(position)
                if on_progress is not None:
                    on_progress(1)

            try:
                for position, result in service.stream_requests([state.request for state in states]):
                    if not 0 <= position < len(states) or position in answered:
                        raise RuntimeError(f"service answered request {position} of {len(states)} (again?)")
                    done(position, result)
                    free.release()
            except Exception as e:  # the service itself failed: record it on the unanswered requests
                logger.exception("a call of %d requests failed", len(states))
                for position in range(len(states)):
                    if position not in answered:
                        done(position, _failure(e))
                        free.release()
            if len(answered) != len(states):  # a broken service left some unanswered
                free.release(len(states) - len(answered))
                raise RuntimeError(f"service answered {len(answered)} of {len(states)} requests")

        with ThreadPoolExecutor(window, thread_name_prefix="sender") as pool:
            calls = []
            start = 0
            while start < len(request_states):
                size = min(self.batch_size, len(request_states) - start)
                for _ in range(size):  # a call goes once a batch's worth of the window is free
                    free.acquire()
                calls.append(pool.submit(run, start, request_states[start : start + size]))
                start += size
            for call in calls:
                call.result()  # a broken service's error
        return [result for result in results if result is not None]


def _failure(error: Exception) -> RequestResult:
    return RequestResult.failure(f"{type(error).__name__}: {error}", retriable=True)
