"""Cancellation that reaches into threads: work for a caller who went away stops.

A provider call runs in a thread (the clients are blocking), and a thread cannot be cancelled: when the caller's
coroutine is cancelled (its HTTP client disconnected; Serve cancels the request down the chain of replicas),
the thread would go on retrying the provider for minutes. So `run_cancellable` runs the call with a
`threading.Event` in its context, sets it when the awaiting coroutine is cancelled, and the blocking code asks
`cancelled()` between steps and waits with `sleep_unless_cancelled`: the retry loop stops at its next step.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import TypeVar

T = TypeVar("T")

_EVENT: contextvars.ContextVar[threading.Event | None] = contextvars.ContextVar("mercury_cancel", default=None)


def cancelled() -> bool:
    """Whether the caller of the work running in this thread has gone away."""
    event = _EVENT.get()
    return event is not None and event.is_set()


def sleep_unless_cancelled(seconds: float) -> None:
    """`time.sleep(seconds)`, ending early when the work is cancelled."""
    event = _EVENT.get()
    if event is None:
        time.sleep(seconds)
    else:
        event.wait(seconds)


async def run_cancellable(executor: Executor | None, calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run `calls` in `executor`'s threads, all at once; if the awaiting coroutine is cancelled, tell them.

    Raises:
        asyncio.CancelledError: when cancelled (the threads see `cancelled()` from then on).
    """
    loop = asyncio.get_running_loop()
    event = threading.Event()
    futures = []
    for call in calls:
        context = contextvars.copy_context()
        context.run(_EVENT.set, event)
        futures.append(loop.run_in_executor(executor, context.run, call))
    try:
        return list(await asyncio.gather(*futures))
    except asyncio.CancelledError:
        event.set()
        raise
