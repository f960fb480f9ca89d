"""Typed facades of the proxy's shared state: accounts, a provider's cache, a provider's rate limiters.

The services (`ProxyService`, `ProviderService`) call shared state only through these, as ordinary awaited
methods with the real arguments and return types, so mypy checks every call. Each facade holds a `Remote`
of its object: `LocalRemote` in one process (tests, `local_service`), the object's named actor on Ray
(`named_actor`). Each method delegates to the object's method of the same name, passed as a function, so
mypy checks the facade against the object too; the `Remote` makes the call, reconnects to an actor that
died and re-raises the object's error with its own type. Methods whose answer the caller does not need
(`finish`, `settle`, `record_usage`) are sent without waiting (see `Remote.send`): a failure is logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench import RequestResult
from serve._accounts import Account, Accounts, Granularity
from serve._errors import RateLimitedError
from serve._limiters import RateLimiters
from serve._remote import Remote
from serve._shared_cache import Claim, SharedCache

Quotas = dict[str, dict[Granularity, int | None]]
"""model group -> granularity -> tokens (None: no limit)."""


@dataclass(frozen=True)
class AccountsFacade:
    """The proxy's `Accounts` (see it for each method's rules and errors)."""

    remote: Remote[Accounts]

    async def authenticate(self, api_key: str) -> Account:
        return await self.remote.call(Accounts.authenticate, api_key)

    async def get_account(self, caller_key: str, api_key: str | None = None) -> Account:
        return await self.remote.call(Accounts.get_account, caller_key, api_key)

    async def list_accounts(self, caller_key: str) -> list[Account]:
        return await self.remote.call(Accounts.list_accounts, caller_key)

    async def create_account(
        self, caller_key: str, *, description: str = "", is_admin: bool = False, quotas: Quotas | None = None
    ) -> Account:
        return await self.remote.call(
            Accounts.create_account, caller_key, description=description, is_admin=is_admin, quotas=quotas
        )

    async def update_account(
        self,
        caller_key: str,
        api_key: str | None = None,
        *,
        description: str | None = None,
        is_admin: bool | None = None,
        quotas: Quotas | None = None,
    ) -> Account:
        return await self.remote.call(
            Accounts.update_account, caller_key, api_key, description=description, is_admin=is_admin, quotas=quotas
        )

    async def rotate_key(self, caller_key: str, api_key: str | None = None) -> Account:
        return await self.remote.call(Accounts.rotate_key, caller_key, api_key)

    async def check_quota(self, api_key: str, model_group: str) -> bool:
        return await self.remote.call(Accounts.check_quota, api_key, model_group)

    async def reserve(self, api_key: str, model_group: str, tokens: int) -> str | None:
        return await self.remote.call(Accounts.reserve, api_key, model_group, tokens)

    async def settle(self, reservation: str, api_key: str, model_group: str, tokens: int) -> None:
        """Sent: the accounts never refuse a settlement, so the answer does not wait for it."""
        await self.remote.send(Accounts.settle, reservation, api_key, model_group, tokens)

    async def record_usage(self, api_key: str, model_group: str, tokens: int) -> None:
        """Sent: usage with no quota to refuse it is counted while the answer goes back."""
        await self.remote.send(Accounts.record_usage, api_key, model_group, tokens)


@dataclass(frozen=True)
class SharedCacheFacade:
    """One provider's `SharedCache`, shared by its replicas (see it for claims, leads and follows)."""

    remote: Remote[SharedCache]

    async def claim_many(self, keys: list[str]) -> list[Claim]:
        return await self.remote.call(SharedCache.claim_many, keys)

    async def lookup_many(self, keys: list[str]) -> list[RequestResult | None]:
        return await self.remote.call(SharedCache.lookup_many, keys)

    async def follow_many(self, keys: list[str]) -> list[RequestResult | None]:
        return await self.remote.call(SharedCache.follow_many, keys)

    async def finish(self, key: str, result: RequestResult) -> None:
        """Sent: the result is stored, and handed to its followers, while the answer goes back."""
        await self.remote.send(SharedCache.finish, key, result)


@dataclass(frozen=True)
class RateLimitersFacade:
    """One provider's `RateLimiters`, shared by its replicas."""

    remote: Remote[RateLimiters]

    async def acquire_each(self, model: str, tokens: list[int], max_wait: float) -> list[float | RateLimitedError]:
        return await self.remote.call(RateLimiters.acquire_each, model, tokens, max_wait)

    async def pause(self, model: str, seconds: float) -> None:
        await self.remote.call(RateLimiters.pause, model, seconds)
