"""`Remote`: one way to call a shared object (accounts, a rate limiter, a cache), in-process or in a Ray actor.

The proxy's replicas share state through named Ray actors. Each actor is a `ServiceActor` holding one
plain object (`Accounts`, `RateLimiters`, `SharedCache`) and exposing a single `call(method, ...)`. The
actor returns errors as values instead of raising them, so a `ProxyError` reaches the caller as itself
(Ray would wrap it in a `RayTaskError` whose message is a traceback). Tests without Ray use `LocalRemote`
around the same plain object: the services above cannot tell the difference.

A caller names the method by the function itself (`remote.call(Accounts.charge, key, group, tokens)`), so
mypy checks its arguments and its value against the object's own method; only the transport below
(`call_by_name`) sees the method's name. The services call typed facades (serve._facades) built on this.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import logging
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

ACTOR_NAMESPACE = "mercury-proxy"
STATE_RESOURCE = "mercury_state"
"""A custom resource the node holding the proxy's state folder offers (`ray start --resources`)."""

logger = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")


class Remote(ABC, Generic[T]):
    """A shared object of type `T` whose methods are awaited, wherever it lives."""

    @overload
    async def call(
        self, method: Callable[Concatenate[T, P], Coroutine[Any, Any, R]], *args: P.args, **kwargs: P.kwargs
    ) -> R: ...

    @overload
    async def call(self, method: Callable[Concatenate[T, P], R], *args: P.args, **kwargs: P.kwargs) -> R: ...

    async def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """The value of `target.method(*args, **kwargs)`; its exception is raised here, with its own type."""
        return await self.call_by_name(method.__name__, args, kwargs)

    async def send(self, method: Callable[Concatenate[T, P], object], *args: P.args, **kwargs: P.kwargs) -> None:
        """`target.method(*args, **kwargs)` without waiting for it (a failure is logged, never raised).

        For writes whose answer the caller does not need (store a result, count usage): calls made after it
        through this Remote in this process see its effect, but the caller's answer does not wait for it.
        """
        await self.send_by_name(method.__name__, args, kwargs)

    @abstractmethod
    async def call_by_name(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """The transport of `call`: the method's name and arguments to the object, its value or error back."""

    @abstractmethod
    async def send_by_name(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """The transport of `send`."""


async def _invoke(target: object, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    value = getattr(target, method)(*args, **kwargs)
    if inspect.isawaitable(value):
        value = await value
    return value


class LocalRemote(Remote[T]):
    """Calls an object in this process (tests, and the single-process server)."""

    def __init__(self, target: T) -> None:
        self.target = target

    async def call_by_name(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return await _invoke(self.target, method, args, kwargs)

    async def send_by_name(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """In this process there is no trip to save: the call is made at once, only its failure is logged."""
        try:
            await _invoke(self.target, method, args, kwargs)
        except Exception as error:
            _log_failed_send(method, error)


Call = tuple[str, tuple[Any, ...], dict[str, Any]]
"""One method call: name, positional and keyword arguments."""

Outcome = tuple[bool, Any]
"""(True, value) or (False, the exception it raised): only between `ServiceActor` and `ActorRemote`."""


class ServiceActor:
    """The body of every shared-state actor: builds its object once and answers `call`s.

    `call` is async, which makes this an async actor: a cache lookup waiting for another replica's
    upstream call does not block the others. `call_many` answers a batch of calls in one round trip
    (see `ActorRemote`); if the object has a `batch()` context manager (`Accounts`: one lock and one
    file write for the whole batch), its synchronous calls run inside it.
    """

    def __init__(self, factory: Any, *args: Any) -> None:
        self.target = factory(*args)

    async def call(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Outcome:
        try:
            return True, await _invoke(self.target, method, args, kwargs)
        except Exception as error:  # returned, not raised: see the module docstring
            return False, error

    async def call_many(self, calls: list[Call]) -> list[Outcome]:
        """The outcome of each call, in order. Synchronous methods run in order, before any awaiting."""
        outcomes: list[Outcome | None] = [None] * len(calls)
        awaiting: dict[int, Any] = {}
        batch = getattr(self.target, "batch", None)
        with batch() if batch is not None else contextlib.nullcontext():
            for index, (method, args, kwargs) in enumerate(calls):
                try:
                    value = getattr(self.target, method)(*args, **kwargs)
                except Exception as error:
                    outcomes[index] = (False, error)
                    continue
                if inspect.isawaitable(value):
                    awaiting[index] = value
                else:
                    outcomes[index] = (True, value)
        values = await asyncio.gather(*awaiting.values(), return_exceptions=True)
        for index, value in zip(awaiting, values):
            outcomes[index] = (False, value) if isinstance(value, BaseException) else (True, value)
        return [outcome for outcome in outcomes if outcome is not None]

    def ready(self) -> bool:
        return True


@dataclass
class _Lane:
    """Calls waiting for a round trip, and round trips under way, of one event loop."""

    queue: list[tuple[Call, asyncio.Future[Outcome]]] = field(default_factory=list)
    in_flight: int = 0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


class ActorRemote(Remote[T]):
    """Calls a `ServiceActor` through its Ray handle, coalescing concurrent calls into few round trips.

    Every actor call costs the caller and the actor a fraction of a millisecond of CPU however little it
    does, and a replica makes several per request (quota check, cache claim and finish, charge). So up
    to `max_in_flight` round trips go out at once, one call each; calls made while they are all under way
    wait, and go together in the next round trip (`call_many`). An idle replica's call goes at once; a busy
    one's calls share a trip. With the default of one trip at a time, calls reach the actor in the order
    they were made (what `send` relies on). Calls that may wait long on the actor (`unbatched`) go alone, so
    they never hold up a batch.
    """

    def __init__(
        self,
        handle: Any = None,
        *,
        connect: Callable[[], Any] | None = None,
        max_in_flight: int = 1,
        max_batch: int = 256,
        unbatched: frozenset[str] = frozenset({"follow_many"}),
    ) -> None:
        """Args:
        handle: the actor's handle; or `connect`, which makes it at the first call (the actor, its process
            included, exists only once something needs it).
        """
        if (handle is None) == (connect is None):
            raise ValueError("give either an actor handle or a way to connect to the actor")
        self._handle = handle
        self._connect = connect
        self.max_in_flight = max_in_flight
        self.max_batch = max_batch
        self.unbatched = unbatched
        self._lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Lane] = weakref.WeakKeyDictionary()

    @property
    def handle(self) -> Any:
        """The actor's handle, made (and the actor created if no one did) on first use."""
        if self._handle is None:
            assert self._connect is not None
            self._handle = self._connect()
        return self._handle

    async def call_by_name(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if method in self.unbatched:
            try:
                ok, value = await self.handle.call.remote(method, args, kwargs)
            except Exception as error:
                if not self._reconnect_after(error):
                    raise
                ok, value = await self.handle.call.remote(method, args, kwargs)
        else:
            ok, value = await self._queue(method, args, kwargs)
        if not ok:
            raise value
        return value

    def _reconnect_after(self, error: BaseException) -> bool:
        """Whether `error` says the actor is dead (its process or node is gone) and a new one can be made: then
        the next call connects again, which creates the actor anew from its files (its name is free once the
        old one is dead), so a provider recovers without a redeploy. The calls of the failed trip are sent once
        more to the new actor: at least once, so one the old actor ran just before it died may count twice."""
        if self._connect is None or not _actor_died(error):
            return False
        logger.warning("a shared-state actor died (%s); connecting to a new one", type(error).__name__)
        self._handle = None
        return True

    async def send_by_name(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Queued for the next round trip, which goes before any later call of this replica's (trips go one
        after another), so this replica's later calls see its effect."""
        future = self._queue(method, args, kwargs)
        future.add_done_callback(lambda done: None if done.result()[0] else _log_failed_send(method, done.result()[1]))

    def _queue(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> asyncio.Future[Outcome]:
        loop = asyncio.get_running_loop()
        lane = self._lanes.setdefault(loop, _Lane())
        future: asyncio.Future[Outcome] = loop.create_future()
        lane.queue.append(((method, args, kwargs), future))
        self._send_waiting(lane)
        return future

    def _send_waiting(self, lane: _Lane) -> None:
        while lane.queue and lane.in_flight < self.max_in_flight:
            batch, lane.queue = lane.queue[: self.max_batch], lane.queue[self.max_batch :]
            lane.in_flight += 1
            task = asyncio.ensure_future(self._round_trip(lane, batch))
            lane.tasks.add(task)  # a reference, so the task is not collected while it runs
            task.add_done_callback(lane.tasks.discard)

    async def _round_trip(self, lane: _Lane, batch: list[tuple[Call, asyncio.Future[Outcome]]]) -> None:
        try:
            calls = [call for call, _ in batch]
            try:
                outcomes = await self._trip(calls)
            except Exception as error:
                if not self._reconnect_after(error):
                    raise
                outcomes = await self._trip(calls)  # once, on the new actor
        except (Exception, asyncio.CancelledError) as error:  # the actor died, Ray failed, or a shutdown: tell all
            outcomes = [(False, error)] * len(batch)
        finally:
            lane.in_flight -= 1
        for (_, future), outcome in zip(batch, outcomes):
            if not future.done():
                future.set_result(outcome)
        self._send_waiting(lane)

    async def _trip(self, calls: list[Call]) -> list[Outcome]:
        if len(calls) == 1:
            method, args, kwargs = calls[0]
            return [await self.handle.call.remote(method, args, kwargs)]
        outcomes: list[Outcome] = await self.handle.call_many.remote(calls)
        return outcomes


def _actor_died(error: BaseException) -> bool:
    """Whether a call failed because the actor is dead for good (not merely busy or briefly unreachable)."""
    try:
        from ray.exceptions import ActorDiedError
    except ImportError:  # pragma: no cover - Ray is there whenever an actor is
        return False
    return isinstance(error, ActorDiedError)


def _log_failed_send(method: str, error: BaseException) -> None:
    # the method and the error only: arguments may hold an API key
    logger.warning("a %s sent to a shared-state actor failed: %s: %s", method, type(error).__name__, error)


def actor_name(kind: str, key: str, base_path: str) -> str:
    """A name unique to this kind of state, this provider (or 'all') and this state folder."""
    folder = hashlib.sha256(base_path.encode()).hexdigest()[:10]
    return f"{kind}:{key}:{folder}"


def named_actor(name: str, factory: Callable[..., T], *args: Any) -> ActorRemote[T]:
    """The detached actor called `name`, created (holding `factory(*args)`) at the first call if no replica
    made it yet: a provider nobody asks never costs a process for its cache or rate limiter.

    Detached, so it outlives the replica that happened to create it; its state is in files, so a new
    actor after a restart starts from where the old one stopped, and one that died (its node gone) is made
    again at the next call (`ActorRemote`). On a cluster whose state folder is on one node (ray-cluster.yaml:
    the head), that node offers the custom resource `mercury_state`, and the actors are placed there: beside
    their files, never on a worker that may leave.
    """

    def connect() -> Any:
        import ray

        actor_class = ray.remote(ServiceActor)
        options: dict[str, Any] = {
            "namespace": ACTOR_NAMESPACE,
            "lifetime": "detached",
            "get_if_exists": True,
            "num_cpus": 0,
        }
        if ray.cluster_resources().get(STATE_RESOURCE):
            options["resources"] = {STATE_RESOURCE: 0.001}
        return actor_class.options(name=name, max_concurrency=1000, **options).remote(factory, *args)

    return ActorRemote(connect=connect)
