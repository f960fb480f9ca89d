"""A command that finds no local head runs in its own process through the proxy's services while the head, the
proxy app (every provider) and the warm workers come up in the background (jobs/_bring_up.py); one bring-up at a
time, and a wait for it has a deadline; models with a rate limit, a cluster in RAY_ADDRESS, a running head or
MERCURY_BACKGROUND_START=0 take the Ray path (tests/jobs/test_local_head.py runs such a first command); and the
next command, for another provider too, uses what came up.

Every head here lives in a folder of its test (MERCURY_RAY_DIR) and is stopped by the test.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.run_specs import RunSpec, expand_run_entries
from jobs import benchmark_run, mercury_cluster
from jobs._bring_up import LOCK_FILE, LOG_FILE, bring_up_running, start_bring_up, wait_for_bring_up
from jobs._local_head import LocalHeadError, read_state, stop_head
from tests.serve.conftest import free_port, write_deployments
from tests.serve.fake_openai import FakeOpenAI

BIN = Path(sys.executable).parent
WAIT_SECONDS = 600.0
"""A bound on the wait for the background bring-up (no assertion is about speed)."""


@pytest.fixture
def head_folder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh head folder (a short path: Ray's temp folder goes in it); its head is stopped after the test."""
    folder = Path(tempfile.mkdtemp(prefix="mb", dir="/tmp"))
    monkeypatch.setenv("MERCURY_RAY_DIR", str(folder))
    monkeypatch.setenv("MERCURY_BACKGROUND_START", "1")  # the session turns it off (tests/conftest.py)
    monkeypatch.setenv("MERCURY_PROXY_PORT", str(free_port()))  # never the session's Serve port: another Ray
    yield folder
    wait_for_bring_up(folder, timeout=WAIT_SECONDS)  # a bring-up a test started must not outlive its head
    stop_head(folder)
    subprocess.run(["rm", "-rf", str(folder)], check=False)


class _HeldLock:
    """The bring-up lock of `folder`, held by this test as a bring-up under way would hold it."""

    def __init__(self, folder: Path) -> None:
        self.file = open(folder / LOCK_FILE, "a")  # noqa: SIM115 (released by `release`)
        fcntl.flock(self.file, fcntl.LOCK_EX)

    def release(self) -> None:
        self.file.close()


def test_one_bring_up_at_a_time_and_a_wait_for_it_has_a_deadline(head_folder: Path) -> None:
    assert not bring_up_running(head_folder)
    held = _HeldLock(head_folder)
    try:
        assert bring_up_running(head_folder)
        assert start_bring_up(1959, folder=head_folder) is False  # under way: no second one
        assert not (head_folder / LOG_FILE).exists()
        with pytest.raises(LocalHeadError, match=r"still running after 0.3 s; see .*bring_up.log"):
            wait_for_bring_up(head_folder, timeout=0.3, poll_seconds=0.05)
        threading.Timer(0.2, held.release).start()
        wait_for_bring_up(head_folder, timeout=WAIT_SECONDS, poll_seconds=0.05)  # returns once it is released
    finally:
        held.release()
    assert not bring_up_running(head_folder)


def test_a_bring_up_that_fails_says_why_in_its_log_and_the_next_command_warns(
    head_folder: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MERCURY_RAY_IDLE_MINUTES", "soon")  # the background process refuses it before any start
    assert start_bring_up(free_port(), folder=head_folder) is True
    wait_for_bring_up(head_folder, timeout=WAIT_SECONDS)
    log = (head_folder / LOG_FILE).read_text()
    assert "the local cluster did not come up" in log and "MERCURY_RAY_IDLE_MINUTES" in log, log[-3000:]
    assert read_state(head_folder) is None
    with caplog.at_level(logging.WARNING, logger="jobs._bring_up"):
        assert start_bring_up(free_port(), folder=head_folder) is True  # the next command tries again
    assert "the last start of the local cluster in the background failed" in caplog.text
    wait_for_bring_up(head_folder, timeout=WAIT_SECONDS)


@pytest.fixture
def configs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """configs/ with simple/model1 (batched on Ray), openai/fake and openai/limited (2 requests a minute); no
    cluster anywhere."""
    folder = tmp_path / "configs"
    folder.mkdir()
    write_deployments(folder, "http://127.0.0.1:9/v1")
    monkeypatch.setenv("MERCURY_CONFIG_DIR", str(folder))
    monkeypatch.setenv("MERCURY_PROD_ENV", str(tmp_path / "prod_env"))
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    if "ray" in sys.modules:  # this session may be on Ray already; the decision is about a new command's process
        monkeypatch.setattr(sys.modules["ray"], "is_initialized", lambda: False)
    return folder


def _decide(entry: str, *flags: str) -> tuple[bool, list[RunSpec]]:
    args = benchmark_run.build_parser().parse_args(["-r", entry, *flags])
    run_specs = expand_run_entries([entry])
    return benchmark_run.runs_here_while_cluster_starts(args, run_specs), run_specs


def test_while_a_bring_up_is_under_way_a_command_runs_here_unless_a_model_is_the_app_s_only(
    head_folder: Path, configs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = _HeldLock(head_folder)  # under way: nothing is started by these decisions
    try:
        assert _decide("simple1:model=openai/fake")[0] is True
        assert _decide("simple1:model=openai/fake", "-o", "s3://bucket/results")[0] is True  # the same pipeline
        assert _decide("simple1:model=openai/fake", "--direct")[0] is False
        # the provider's limiter is the app's: never a second one in this process
        assert _decide("simple1:model=openai/limited")[0] is False
        # batched across callers on Ray (as the local model is): its replica does that, not this process
        assert _decide("simple1:model=simple/model1")[0] is False
        monkeypatch.setenv("MERCURY_BACKGROUND_START", "0")
        assert _decide("simple1:model=openai/fake")[0] is False
        monkeypatch.delenv("MERCURY_BACKGROUND_START")
        monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:6379")
        assert _decide("simple1:model=openai/fake")[0] is False
        monkeypatch.delenv("RAY_ADDRESS")
        monkeypatch.setenv("MERCURY_LOCAL_CLUSTER", "0")
        assert _decide("simple1:model=openai/fake")[0] is False
    finally:
        held.release()
    assert read_state(head_folder) is None


def _run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_the_first_command_runs_here_and_the_next_one_for_another_provider_uses_the_cluster_that_came_up(
    head_folder: Path, tmp_path: Path
) -> None:
    with FakeOpenAI() as fake:
        configs = tmp_path / "configs"
        configs.mkdir()
        write_deployments(configs, fake.base_url)
        env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"} | {
            "MERCURY_RAY_DIR": str(head_folder),
            "MERCURY_CONFIG_DIR": str(configs),
            "MERCURY_PROD_ENV": str(tmp_path / "prod_env"),
            "MERCURY_PROXY_PORT": str(free_port()),  # not the session's Serve port: this is another Ray
        }
        smallest = ["--max-eval-instances", "5", "-o", str(tmp_path / "out")]
        first = _run([str(BIN / "benchmark-run"), "-r", "simple1:model=openai/fake", *smallest], env, tmp_path)
        assert first.returncode == 0, first.stderr[-3000:]
        assert "running here, through the proxy's services in this process" in first.stderr
        assert "deploying the proxy app" not in first.stderr
        assert list((tmp_path / "out" / "runs" / "default").glob("*/stats.json"))  # the run is complete
        assert (tmp_path / "prod_env" / "benchmark_api_key").exists()  # through the proxy's accounts
        sent = len(fake.requests)
        assert sent > 0

        wait_for_bring_up(head_folder, timeout=WAIT_SECONDS)
        log = (head_folder / LOG_FILE).read_text()
        assert "the local cluster is up" in log, log[-3000:]
        assert read_state(head_folder) is not None

        # another provider than the first command's: the app came up with every provider of the file
        second = _run([str(BIN / "benchmark-run"), "-r", "simple1:model=simple/model1", *smallest], env, tmp_path)
        assert second.returncode == 0, second.stderr[-3000:]
        assert "proxy app 'mercury-proxy' is running on the cluster: using it" in second.stderr
        assert "running here" not in second.stderr and "deploying the proxy app" not in second.stderr
        assert len(list((tmp_path / "out" / "runs" / "default").glob("*/stats.json"))) == 2

        # the first command's run again on the cluster: the same numbers, its answers from the cache it filled
        again = [str(BIN / "benchmark-run"), "-r", "simple1:model=openai/fake", *smallest[:2], "-o",
                 str(tmp_path / "on_ray")]  # fmt: skip
        third = _run(again, env, tmp_path)
        assert third.returncode == 0, third.stderr[-3000:]
        assert "proxy app 'mercury-proxy' is running on the cluster: using it" in third.stderr
        assert len(fake.requests) == sent
        here, on_ray = (_stats(tmp_path / out / "runs" / "default") for out in ("out", "on_ray"))
        assert on_ray.pop("cached") == 1.0 and here.pop("cached") == 0.0
        assert here == on_ray


def _stats(folder: Path) -> dict[str, float]:
    """Mean of each test-split Stat of the fake model's run in `folder` (not its timing)."""
    (path,) = folder.glob("simple1:model=openai_fake/stats.json")
    stats = json.loads(path.read_text())
    return {
        s["name"]["name"]: s["mean"]
        for s in stats
        if s["name"].get("split") == "test" and len(s["name"]) == 2 and s["name"]["name"] != "inference_runtime"
    }


def test_down_waits_for_a_start_under_way_and_status_says_it_is_starting(
    head_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    held = _HeldLock(head_folder)
    try:
        assert mercury_cluster.main(["status"]) == mercury_cluster.EXIT_NOT_RUNNING
        assert "no local Ray head runs (it is being started in the background)" in capsys.readouterr().out
        threading.Timer(0.3, held.release).start()
        assert mercury_cluster.main(["down"]) == 0  # stopped halfway, a start would leave a head nobody knows
    finally:
        held.release()
    out = capsys.readouterr().out
    assert "waiting for the local cluster's start in the background to finish" in out
    assert "no local Ray head was running" in out


def test_a_command_that_runs_here_never_imports_ray(head_folder: Path, tmp_path: Path) -> None:
    # Ray's import alone costs a second of CPU: the point of running here is to pay none of it
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"} | {
        "MERCURY_RAY_DIR": str(head_folder),
        "MERCURY_CONFIG_DIR": str(Path(__file__).parents[2] / "configs"),
        "MERCURY_PROD_ENV": str(tmp_path / "prod_env"),
    }
    code = (
        "import sys; from jobs.benchmark_run import main; "
        "status = main(['-r', 'simple1:model=simple/model1', '--max-eval-instances', '3', '-o', 'out']); "
        "print('RAY-IMPORTED', 'ray' in sys.modules); sys.exit(status)"
    )
    held = _HeldLock(head_folder)  # a bring-up under way: none is started by this command
    try:
        result = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
        )
    finally:
        held.release()
    assert result.returncode == 0, result.stderr[-3000:]
    assert "running here, through the proxy's services in this process" in result.stderr
    assert "RAY-IMPORTED False" in result.stdout
