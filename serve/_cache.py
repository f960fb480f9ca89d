"""`ResultCache`: one provider's successful results in SQLite (WAL) under `<proxy env>/cache/<provider>.sqlite`.

The key is the canonical JSON (sorted keys, no spaces) of the provider request plus the request's
`random`, so two requests that would send the same bytes to the provider share one entry, and a
different `random` asks for a fresh sample. Only successful results are stored: failures are never cached.

Concurrency: within a process, concurrent identical requests make one upstream call (the first caller
computes, the others wait on its future and get its result marked cached). Across processes SQLite's WAL
mode and a busy timeout keep the file consistent; on Ray one actor per provider owns the cache
(`serve._shared_cache.SharedCache`), which makes de-duplication global across that provider's replicas.
A hit returns the original `request_time` and `request_datetime` with `cached: true`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bench import RequestResult
from serve._state_files import private_file

BUSY_TIMEOUT_MS = 30_000


def cache_key(provider_request: Mapping[str, Any], random: str | None) -> str:
    """Canonical JSON of the provider request plus `random`: equal requests give equal strings."""
    return json.dumps(
        {"request": provider_request, "random": random}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


class CacheStats(BaseModel):
    """Hits and misses of this process since the cache was opened, and entries in the file."""

    hits: int
    misses: int
    entries: int


class ResultCache:
    """Successful `RequestResult`s of one provider, persisted in SQLite; thread-safe."""

    def __init__(self, folder: Path | str, provider: str) -> None:
        """Open (creating if needed) `<folder>/<provider>.sqlite`: the folder 0700, the file 0600 (SQLite gives its
        -wal and -shm files the database's mode), since it holds every caller's prompts and answers."""
        self.path = private_file(Path(folder) / f"{provider}.sqlite")
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT NOT NULL, stored REAL)")
        self._db_lock = threading.Lock()
        self._flight_lock = threading.Lock()
        self._in_flight: dict[str, Future[RequestResult]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> RequestResult | None:
        """The stored result for `key` (marked cached), or None."""
        with self._db_lock:
            row = self._db.execute("SELECT value FROM results WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        return RequestResult.model_validate_json(row[0]).model_copy(update={"cached": True})

    def put(self, key: str, result: RequestResult) -> None:
        """Store a successful result (an unsuccessful one is ignored: failures are never cached)."""
        if not result.success:
            return
        value = result.model_copy(update={"cached": False}).model_dump_json()
        with self._db_lock:
            self._db.execute(
                "INSERT OR REPLACE INTO results (key, value, stored) VALUES (?, ?, ?)", (key, value, time.time())
            )

    def get_or_compute(self, key: str, compute: Callable[[], RequestResult]) -> RequestResult:
        """The cached result for `key`, else `compute()`'s (stored if successful).

        Concurrent callers with the same key share one `compute()`: the others get its result, marked
        cached when it succeeded (they made no upstream call, so they are not charged).
        """
        hit = self.get(key)
        if hit is not None:
            self._count(hit=True)
            return hit
        with self._flight_lock:
            leader = key not in self._in_flight
            future = self._in_flight.setdefault(key, Future())
        if not leader:
            shared = future.result()
            self._count(hit=shared.success)
            return shared.model_copy(update={"cached": True}) if shared.success else shared
        try:
            # the previous leader may have stored it between our miss and taking the lead
            result = self.get(key) or compute()
            self._count(hit=result.cached)
            self.put(key, result)
            future.set_result(result)
            return result
        except BaseException as error:
            future.set_exception(error)
            raise
        finally:
            with self._flight_lock:
                del self._in_flight[key]

    def stats(self) -> CacheStats:
        """Hit and miss counts (this process) and the number of stored results (the file)."""
        with self._db_lock:
            entries = self._db.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        return CacheStats(hits=self.hits, misses=self.misses, entries=entries)

    def close(self) -> None:
        """Close the database connection."""
        with self._db_lock:
            self._db.close()

    def _count(self, *, hit: bool) -> None:
        with self._flight_lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1
