"""The typed facades over an actor's transport (a fake handle that pickles every answer, as Ray does): values
and errors come back as the object's own, with their types and fields, and sent writes precede later calls."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench import RequestResult
from serve import (
    Accounts,
    AccountsFacade,
    ActorRemote,
    AuthenticationError,
    QuotaExceededError,
    RateLimitedError,
    RateLimiters,
    RateLimitersFacade,
    ServingConfig,
    SharedCache,
    SharedCacheFacade,
)
from tests.serve.test_remote import FakeHandle


def test_accounts_errors_cross_the_actor_as_themselves_and_settlements_precede_later_calls(tmp_path: Path) -> None:
    handle = FakeHandle(False, Accounts, str(tmp_path))
    accounts = AccountsFacade(ActorRemote[Accounts](handle))
    admin = handle.actor.target.ensure_admin()
    assert admin is not None

    async def scenario() -> None:
        with pytest.raises(AuthenticationError):
            await accounts.authenticate("not-a-key")
        user = (await accounts.create_account(admin, quotas={"g": {"daily": 10}})).api_key
        assert user is not None and await accounts.check_quota(user, "g")
        reservation = await accounts.reserve(user, "g", 8)
        assert reservation is not None
        with pytest.raises(QuotaExceededError) as refused:  # 8 held: 3 more would pass the quota
            await accounts.reserve(user, "g", 3)
        assert (refused.value.model_group, refused.value.granularity, refused.value.status) == ("g", "daily", 429)
        assert "used 8 of 10 tokens, this request needs 3" in str(refused.value)
        await accounts.settle(reservation, user, "g", 2)  # sent: not awaited on the actor
        await accounts.record_usage(user, "g", 1)
        account = await accounts.get_account(user)
        assert account.usages["g"]["daily"].used == 3  # the sent calls went before this one

    asyncio.run(scenario())


def test_the_cache_facade_leads_follows_and_finishes(tmp_path: Path) -> None:
    cache = SharedCacheFacade(ActorRemote[SharedCache](FakeHandle(False, SharedCache, tmp_path, "p")))

    async def scenario() -> None:
        assert await cache.claim_many(["k"]) == [("lead", None)]
        assert await cache.claim_many(["k", "other"]) == [("follow", None), ("lead", None)]
        follower = asyncio.ensure_future(cache.follow_many(["k"]))
        await asyncio.sleep(0.05)  # the follower waits on the actor for the leader's result
        await cache.finish("k", RequestResult(success=True, request_time=1.5))
        ((shared),) = await follower
        assert shared is not None and shared.cached and shared.request_time == 1.5
        assert await cache.lookup_many(["k", "other"]) == [shared, None]

    asyncio.run(scenario())


def test_the_limiter_facade_answers_turns_and_refusals_with_their_types() -> None:
    servings = {"p/tight": ServingConfig(requests_per_minute=1), "p/fast": ServingConfig(requests_per_minute=600)}
    handle = FakeHandle(False, RateLimiters, "p", servings, lambda: 1000.0)  # the limiter's time stands still
    limiters = RateLimitersFacade(ActorRemote[RateLimiters](handle))

    async def scenario() -> None:
        assert await limiters.acquire_each("p/tight", [0], 0.0) == [0.0]
        (refused,) = await limiters.acquire_each("p/tight", [0], 0.0)
        assert isinstance(refused, RateLimitedError) and refused.retry_after > 0 and refused.status == 429
        await limiters.pause("p/fast", 30.0)
        (paused,) = await limiters.acquire_each("p/fast", [0], 0.0)
        assert isinstance(paused, RateLimitedError) and 30 < paused.retry_after < 31  # the pause, then a refill

    asyncio.run(scenario())
