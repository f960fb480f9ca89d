"""The in-process executor: sends every request state's request to a ModelService and keeps its result."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from bench._request import RequestResult
from bench.adaptation import RequestState
from bench.models import ModelService

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]


class Executor:
    """Executes request states in batches, `parallelism` batches at a time, keeping their order."""

    def __init__(self, service: ModelService, *, parallelism: int = 4, batch_size: int = 8) -> None:
        self.service = service
        self.parallelism = max(1, parallelism)
        self.batch_size = max(1, batch_size)

    def execute(
        self, request_states: Sequence[RequestState], on_progress: ProgressCallback | None = None
    ) -> list[RequestState]:
        """Request states with their results, in the order given.

        A batch that raises (an unreachable service, or a bug; not a model's answer) fails its requests with
        a retriable error result naming the exception, so finished work is never lost and a rerun sends them
        again (bench.runner._failures).
        """
        batches = [
            list(request_states[i : i + self.batch_size]) for i in range(0, len(request_states), self.batch_size)
        ]

        def run(batch: list[RequestState]) -> list[RequestState]:
            try:
                results = self.service.make_requests([state.request for state in batch])
            except Exception as e:  # the service itself failed: record it on each request, keep going
                logger.exception("a batch of %d requests failed", len(batch))
                results = [RequestResult.failure(f"{type(e).__name__}: {e}", retriable=True)] * len(batch)
            if len(results) != len(batch):
                raise RuntimeError(f"service returned {len(results)} results for {len(batch)} requests")
            if on_progress is not None:
                on_progress(len(batch))
            return [state.with_result(result) for state, result in zip(batch, results)]

        if self.parallelism == 1 or len(batches) <= 1:
            done = [run(batch) for batch in batches]
        else:
            with ThreadPoolExecutor(self.parallelism, thread_name_prefix="executor") as pool:
                done = list(pool.map(run, batches))
        return [state for batch in done for state in batch]
