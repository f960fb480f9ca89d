"""`SharedCache`: one provider's `ResultCache` with de-duplication across every replica (held by one actor).

A replica *claims* the keys of its requests. Each claim answers `hit` (the stored result), `lead` (no
one has asked: this caller calls the provider and must `finish` the key) or `follow` (another caller
is calling the provider right now). Followers `follow` after computing their own leads, never while
holding them, so two replicas that each lead one key and follow the other's cannot wait on each other.
A follower gets the leader's result marked cached (it made no upstream call); if the leader is gone
(finished with a failure before the follower asked, or never finished within `follow_timeout`), the
follower gets None and calls the provider itself.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from bench import RequestResult
from serve._cache import ResultCache

Claim = tuple[Literal["hit", "lead", "follow"], RequestResult | None]


class SharedCacheStats(BaseModel):
    """Counts since the actor started, and entries in the file."""

    hits: int
    misses: int
    shared: int
    entries: int


class SharedCache:
    """A provider's result cache plus the set of keys being computed right now."""

    def __init__(self, folder: Path | str, provider: str, follow_timeout: float = 600.0) -> None:
        self.cache = ResultCache(folder, provider)
        self.follow_timeout = follow_timeout
        self._in_flight: dict[str, asyncio.Future[RequestResult]] = {}
        self.hits = 0
        self.misses = 0
        self.shared = 0

    def claim_many(self, keys: list[str]) -> list[Claim]:
        """For each key: its stored result, or whether the caller leads or follows the upstream call."""
        claims: list[Claim] = []
        for key in keys:
            hit = self.cache.get(key)
            if hit is not None:
                self.hits += 1
                claims.append(("hit", hit))
            elif key in self._in_flight:
                claims.append(("follow", None))
            else:
                self.misses += 1
                self._in_flight[key] = asyncio.get_running_loop().create_future()
                claims.append(("lead", None))
        return claims

    def lookup_many(self, keys: list[str]) -> list[RequestResult | None]:
        """The stored result of each key (cached: true), or None; claims nothing (no one is asked to compute)."""
        found = [self.cache.get(key) for key in keys]
        self.hits += sum(result is not None for result in found)
        return found

    def finish(self, key: str, result: RequestResult) -> None:
        """Store a leader's result (successes only) and hand it to its followers."""
        self.cache.put(key, result)
        future = self._in_flight.pop(key, None)
        if future is not None and not future.done():
            future.set_result(result)

    async def follow_many(self, keys: list[str]) -> list[RequestResult | None]:
        """The leaders' results for `keys` (cached: true on success), None where the caller must compute."""
        return list(await asyncio.gather(*(self._follow(key) for key in keys)))

    async def _follow(self, key: str) -> RequestResult | None:
        future = self._in_flight.get(key)
        if future is None:
            stored = self.cache.get(key)
            if stored is not None:
                self.hits += 1
            return stored
        try:
            result = await asyncio.wait_for(asyncio.shield(future), self.follow_timeout)
        except TimeoutError:
            return None
        self.shared += 1
        return result.model_copy(update={"cached": True}) if result.success else result

    def stats(self) -> SharedCacheStats:
        """Hits, misses, results shared with followers, and stored entries."""
        entries = self.cache.stats().entries
        return SharedCacheStats(hits=self.hits, misses=self.misses, shared=self.shared, entries=entries)
