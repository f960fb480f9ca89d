"""Warm workers (cluster._warm): the same results as tasks, reused by the next command, restarted when killed,
ended when idle, and told apart by code and environment."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench import ConfigError
from bench.run_specs import RunSpec
from bench.runner import Runner, RunResult
from cluster import WarmPool, code_digest
from cluster._warm import IDLE_VARIABLE, WARM_NAMESPACE, idle_seconds, warm_workers_enabled
from tests.cluster.fakes import ExitOnceFactory
from tests.cluster.test_ray_execution import NUM_EVAL, baseline, figures, ray_runner, spec  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("ray_cluster")

TEST_ENV = {"env_vars": {"MERCURY_TEST_WARM": "1"}}
"""A runtime environment of these tests' own, so their workers are not the other tests' (its digest differs)."""


def warm_runner(output: Path, factory: object = None, **kwargs: object) -> Runner:
    return ray_runner(output, factory, warm_workers=True, runtime_env=TEST_ENV, **kwargs)


def pids(pool: WarmPool) -> list[int]:
    import ray

    return list(ray.get([worker.ping.remote() for worker in pool.workers()]))


def test_warm_workers_give_the_tasks_figures_and_serve_the_next_command(
    spec: RunSpec,  # noqa: F811
    baseline: RunResult,  # noqa: F811
    tmp_path: Path,
) -> None:
    result = warm_runner(tmp_path / "a").run_one(spec)
    assert figures(result.stats) == figures(baseline.stats)
    assert (result.num_instances, result.num_requests, result.num_failed_requests) == (NUM_EVAL, NUM_EVAL, 0)
    first = pids(WarmPool(runtime_env=TEST_ENV))
    # a new pool object, as a new command makes: it finds the same processes by name
    again = warm_runner(tmp_path / "b").run_one(spec)
    assert figures(again.stats) == figures(baseline.stats)
    assert pids(WarmPool(runtime_env=TEST_ENV)) == first


def test_a_warm_worker_killed_mid_shard_is_restarted_and_nothing_is_lost(
    spec: RunSpec,  # noqa: F811
    baseline: RunResult,  # noqa: F811
    tmp_path: Path,
) -> None:
    marker = tmp_path / "killed-once"
    result = warm_runner(tmp_path / "out", ExitOnceFactory(str(marker)), num_shards=3).run_one(spec)
    assert marker.exists()  # the worker process really died with os._exit in the middle of a shard
    assert figures(result.stats) == figures(baseline.stats)
    assert (result.num_requests, result.num_failed_requests) == (NUM_EVAL, 0)


def test_an_idle_warm_worker_ends_itself() -> None:
    import ray

    pool = WarmPool(size=1, idle_seconds=1.0, runtime_env={"env_vars": {"MERCURY_TEST_WARM": "idle"}})
    [worker] = pool.workers()
    name = ray.util.list_named_actors(all_namespaces=True)
    assert any(entry["namespace"] == WARM_NAMESPACE for entry in name)
    deadline = time.monotonic() + 120  # generous: the worker checks every 0.5 s on a busy machine
    while time.monotonic() < deadline:
        try:
            ray.get(worker.ping.remote(), timeout=30)
        except ray.exceptions.RayActorError:
            return  # ended for good (no restart): a later command makes a new one
        time.sleep(2.0)  # each ping is a call: wait longer than idle_seconds between them
    pytest.fail("the idle warm worker did not end")


def test_other_code_or_environment_gets_other_workers(tmp_path: Path) -> None:
    assert code_digest({"env_vars": {"A": "1"}}) != code_digest({"env_vars": {"A": "2"}})
    assert code_digest(TEST_ENV) == code_digest(TEST_ENV)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MERCURY_WARM_WORKERS", raising=False)
    assert warm_workers_enabled()
    monkeypatch.setenv("MERCURY_WARM_WORKERS", "0")
    assert not warm_workers_enabled()
    monkeypatch.setenv(IDLE_VARIABLE, "30")
    assert idle_seconds() == 30.0
    monkeypatch.setenv(IDLE_VARIABLE, "soon")
    with pytest.raises(ConfigError, match=f"environment variable {IDLE_VARIABLE}: 'soon'"):
        idle_seconds()
