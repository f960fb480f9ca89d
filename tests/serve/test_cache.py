"""The result cache: keys, hits and misses, random, one upstream call for concurrent twins, persistence."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

from bench import GeneratedOutput, RequestResult
from serve import ResultCache, cache_key


def ok(text: str, request_time: float = 0.5) -> RequestResult:
    return RequestResult(
        success=True,
        completions=(GeneratedOutput(text=text, logprob=-1.0),),
        request_time=request_time,
        request_datetime=1700000000,
    )


def test_key_is_canonical_and_includes_random() -> None:
    assert cache_key({"b": 1, "a": [1, 2]}, None) == '{"random":null,"request":{"a":[1,2],"b":1}}'
    assert cache_key({"a": 1, "b": 2}, "s") == cache_key({"b": 2, "a": 1}, "s")
    assert cache_key({"a": 1}, "s1") != cache_key({"a": 1}, "s2")


def test_hit_returns_original_time_and_counts(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "openai")
    calls: list[int] = []

    def compute() -> RequestResult:
        calls.append(1)
        return ok("Paris", request_time=0.5)

    first = cache.get_or_compute("k", compute)
    second = cache.get_or_compute("k", compute)
    assert (first.cached, second.cached) == (False, True)
    assert second.request_time == 0.5 and second.request_datetime == 1700000000
    assert second.completions == first.completions and len(calls) == 1
    other = cache.get_or_compute(cache_key({"p": 1}, "other salt"), compute)
    assert not other.cached and len(calls) == 2
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries) == (1, 2, 2)


def test_failures_are_never_cached(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "openai")
    answers = iter([RequestResult.failure("HTTP 500", retriable=True), ok("later")])
    assert not cache.get_or_compute("k", lambda: next(answers)).success
    result = cache.get_or_compute("k", lambda: next(answers))
    assert result.success and not result.cached and result.completions[0].text == "later"
    assert cache.stats().entries == 1


def test_concurrent_identical_requests_make_one_call(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path, "openai")
    calls: list[int] = []
    lock = threading.Lock()

    def slow() -> RequestResult:
        with lock:
            calls.append(1)
        time.sleep(0.1)  # long enough for every thread to arrive while the first computes
        return ok("once")

    results: list[RequestResult] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute("k", slow))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert sorted(r.cached for r in results) == [False] + [True] * 7
    assert {r.completions[0].text for r in results} == {"once"}
    assert (cache.stats().hits, cache.stats().misses) == (7, 1)


def test_persists_across_a_new_cache_on_the_same_folder(tmp_path: Path) -> None:
    first = ResultCache(tmp_path / "cache", "ai21")
    first.get_or_compute("k", lambda: ok("kept"))
    first.close()
    reopened = ResultCache(tmp_path / "cache", "ai21")
    result = reopened.get_or_compute("k", lambda: ok("recomputed"))
    assert result.cached and result.completions[0].text == "kept"
    assert (tmp_path / "cache" / "ai21.sqlite").is_file()
    assert reopened._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_cache_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    # finding 9 of issue 11: the cache (every caller's prompts) was 0644
    old = os.umask(0o022)
    try:
        cache = ResultCache(tmp_path / "cache", "openai")
        cache.put("k", ok("x"))
    finally:
        os.umask(old)
    files = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert "openai.sqlite" in files and "openai.sqlite-wal" in files
    for name in files:
        assert stat.S_IMODE((tmp_path / "cache" / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
    cache.close()
