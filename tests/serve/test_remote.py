"""ServiceActor's batches and ActorRemote's coalescing of concurrent calls, without Ray (a fake handle)."""

from __future__ import annotations

import asyncio
import contextlib
import pickle
from collections.abc import Iterator
from typing import Any

import pytest

from serve import ActorRemote
from serve._remote import Call, Outcome, ServiceActor


class Counter:
    """A shared object with sync and async methods, and a batch context that records its use."""

    def __init__(self) -> None:
        self.value = 0
        self.log: list[str] = []

    def add(self, amount: int) -> int:
        if amount < 0:
            raise ValueError(f"negative amount {amount}")
        self.value += amount
        return self.value

    async def later(self, amount: int) -> int:
        await asyncio.sleep(0)
        return self.add(amount)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        self.log.append("begin")
        yield
        self.log.append("end")


def test_call_many_answers_in_order_with_errors_as_values() -> None:
    actor = ServiceActor(Counter)
    calls: list[Call] = [("add", (1,), {}), ("later", (10,), {}), ("add", (-1,), {}), ("add", (), {"amount": 2})]
    outcomes = asyncio.run(actor.call_many(calls))
    assert [ok for ok, _ in outcomes] == [True, True, False, True]
    assert outcomes[0][1] == 1 and outcomes[3][1] == 3  # synchronous calls ran in order, first
    assert outcomes[1][1] == 13  # the awaited one ran after them
    assert isinstance(outcomes[2][1], ValueError) and "negative amount -1" in str(outcomes[2][1])
    assert actor.target.log == ["begin", "end"]  # one batch context around the synchronous calls


class FakeMethod:
    def __init__(self, handle: FakeHandle, name: str) -> None:
        self.handle, self.name = handle, name

    def remote(self, *args: Any) -> Any:
        return self.handle.trip(self.name, args)


class FakeHandle:
    """Stands for a Ray actor handle: `call.remote(...)` and `call_many.remote(...)` are awaitable, and what
    they answer is pickled and unpickled, as Ray sends it."""

    def __init__(self, fail: bool = False, factory: Any = Counter, *args: Any) -> None:
        self.actor = ServiceActor(factory, *args)
        self.trips: list[tuple[str, int]] = []
        self.fail = fail
        self.call = FakeMethod(self, "call")
        self.call_many = FakeMethod(self, "call_many")

    async def trip(self, name: str, args: tuple[Any, ...]) -> Any:
        self.trips.append((name, 1 if name == "call" else len(args[0])))
        await asyncio.sleep(0.01)  # the round trip
        if self.fail:
            raise ConnectionError("the actor died")
        if name == "call":
            return pickle.loads(pickle.dumps(await self.actor.call(*args)))
        outcomes: list[Outcome] = await self.actor.call_many(*args)
        return pickle.loads(pickle.dumps(outcomes))


def test_concurrent_calls_share_round_trips() -> None:
    handle = FakeHandle()
    remote = ActorRemote[Counter](handle, max_in_flight=2)

    async def main() -> list[int]:
        return list(await asyncio.gather(*(remote.call(Counter.add, 1) for _ in range(20))))

    values = asyncio.run(main())
    assert sorted(values) == list(range(1, 21))
    assert handle.trips[:2] == [("call", 1), ("call", 1)]  # the first calls go at once, alone
    assert handle.trips[2:] == [("call_many", 18)]  # the others waited and went together
    assert handle.actor.target.value == 20


def test_an_idle_caller_is_not_delayed_and_errors_reach_their_caller() -> None:
    handle = FakeHandle()
    remote = ActorRemote[Counter](handle)

    async def main() -> None:
        assert await remote.call(Counter.add, 5) == 5
        with pytest.raises(ValueError, match="negative amount"):
            await remote.call(Counter.add, -5)
        assert await remote.call(Counter.later, 1) == 6

    asyncio.run(main())
    assert handle.trips == [("call", 1)] * 3


def test_a_failed_round_trip_fails_every_call_in_it() -> None:
    remote = ActorRemote[Counter](FakeHandle(fail=True), max_in_flight=1)

    async def main() -> list[Any]:
        return list(await asyncio.gather(*(remote.call(Counter.add, 1) for _ in range(5)), return_exceptions=True))

    errors = asyncio.run(main())
    assert all(isinstance(e, ConnectionError) and "the actor died" in str(e) for e in errors)


def test_unbatched_methods_go_alone() -> None:
    handle = FakeHandle()
    remote = ActorRemote[Counter](handle, max_in_flight=1, unbatched=frozenset({"later"}))

    async def main() -> None:
        await asyncio.gather(*(remote.call(Counter.later, 1) for _ in range(3)))

    asyncio.run(main())
    assert handle.trips == [("call", 1)] * 3


def test_the_actor_is_made_at_the_first_call_only() -> None:
    made: list[FakeHandle] = []

    def connect() -> FakeHandle:
        made.append(FakeHandle())
        return made[-1]

    remote = ActorRemote[Counter](connect=connect)
    assert made == []  # a provider nobody asks costs no actor

    async def main() -> None:
        assert await remote.call(Counter.add, 2) == 2
        assert await remote.call(Counter.add, 3) == 5

    asyncio.run(main())
    assert len(made) == 1
    with pytest.raises(ValueError, match="either an actor handle or a way to connect"):
        ActorRemote()


def test_a_sent_call_goes_before_later_calls_and_its_failure_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    handle = FakeHandle()
    remote = ActorRemote[Counter](handle)

    async def main() -> int:
        first = asyncio.ensure_future(remote.call(Counter.add, 1))
        await asyncio.sleep(0)  # its trip is under way: what follows queues
        await remote.send(Counter.add, 10)
        await remote.send(Counter.add, -1)  # fails on the actor: logged, not raised
        value: int = await remote.call(Counter.add, 100)
        await first
        return value

    assert asyncio.run(main()) == 111  # the sent add ran before the later call
    assert handle.trips == [("call", 1), ("call_many", 3)]
    assert "a add sent to a shared-state actor failed: ValueError: negative amount -1" in caplog.text
