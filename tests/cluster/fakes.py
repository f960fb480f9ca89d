"""Model services for the cluster tests; picklable factories, imported by Ray workers from the repo root."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bench
from bench import Request, RequestResult
from bench.models import InProcessService, ModelService


class _Wrapped(InProcessService):
    """InProcessService with a hook before each batch."""

    def before(self, requests: Sequence[Request]) -> None:
        """Called with each batch before it runs."""

    def make_requests(self, requests: Sequence[Request]) -> list[RequestResult]:
        self.before(requests)
        return super().make_requests(requests)


@dataclass(frozen=True)
class RecordingFactory:
    """Answers with simple/model1 and appends every prompt it executes to a file in `log_dir` (one per process)."""

    log_dir: str

    def __call__(self) -> ModelService:
        bench.load_builtins()
        Path(self.log_dir).mkdir(parents=True, exist_ok=True)
        log = Path(self.log_dir) / f"{os.getpid()}.log"

        class Recording(_Wrapped):
            def before(self, requests: Sequence[Request]) -> None:
                with log.open("a", encoding="utf-8") as f:
                    f.writelines(repr(r.prompt) + "\n" for r in requests)

        return Recording()


def recorded_prompts(log_dir: Path) -> list[str]:
    """Every prompt the RecordingFactory's services executed."""
    return [line for log in sorted(log_dir.glob("*.log")) for line in log.read_text().splitlines()]


@dataclass(frozen=True)
class ExitOnceFactory:
    """Kills its worker process (os._exit) on its first batch, once per marker file; answers normally after."""

    marker: str

    def __call__(self) -> ModelService:
        bench.load_builtins()
        marker = Path(self.marker)

        class ExitOnce(_Wrapped):
            def before(self, requests: Sequence[Request]) -> None:
                try:
                    fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                except FileExistsError:
                    return
                os.close(fd)
                os._exit(1)

        return ExitOnce()


def fails(prompt: str) -> bool:
    """Which requests the provider of `FailingFactory` refuses: about a third, by the prompt's characters."""
    return sum(map(ord, prompt)) % 3 == 0


@dataclass(frozen=True)
class FailingFactory:
    """A provider that answers like simple/model1 but returns an error result for prompts where `fails`."""

    def __call__(self) -> ModelService:
        bench.load_builtins()

        class Failing(InProcessService):
            def make_requests(self, requests: Sequence[Request]) -> list[RequestResult]:
                answers = super().make_requests(requests)
                return [
                    RequestResult.failure("provider error 503: overloaded", retriable=True) if fails(r.prompt) else a
                    for r, a in zip(requests, answers)
                ]

        return Failing()


@dataclass(frozen=True)
class SlowFactory:
    """Answers with simple/model1, `seconds` after each batch arrives (a hosted model's latency)."""

    seconds: float

    def __call__(self) -> ModelService:
        bench.load_builtins()
        seconds = self.seconds

        class Slow(_Wrapped):
            def before(self, requests: Sequence[Request]) -> None:
                time.sleep(seconds)

        return Slow()
