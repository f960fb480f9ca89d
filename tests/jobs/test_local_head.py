"""The local Ray head that outlives one command (jobs/_local_head.py): the first benchmark-run starts it, the
second joins the same head and finds the proxy running, `mercury-cluster down` ends exactly its processes, its
watchdog stops it after the idle time; and environment errors are one line, exit 2.

Every head here lives in a folder of its test (MERCURY_RAY_DIR), never the user's, and is stopped by the test
(the session also stops the one of tests/conftest.py's folder). benchmark-run runs in subprocesses: this
process is already connected to the session's Ray, and a command is what users run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs import mercury_cluster
from jobs._local_head import (
    HeadState,
    LocalHeadError,
    check_proxy_state,
    group_members,
    head_processes,
    idle_minutes_setting,
    read_state,
    record_proxy_state,
    stop_head,
)

BIN = Path(sys.executable).parent
SMALLEST = ["-r", "simple1", "-m", "simple/model1", "--max-eval-instances", "10"]
WAIT_SECONDS = 180.0
"""A bound on waits for processes to end, generous for a loaded machine (no assertion is about speed)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def head_folder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh head folder (a short path: Ray's temp folder goes in it); its head is stopped after the test."""
    folder = Path(tempfile.mkdtemp(prefix="mh", dir="/tmp"))
    monkeypatch.setenv("MERCURY_RAY_DIR", str(folder))
    yield folder
    stop_head(folder)
    subprocess.run(["rm", "-rf", str(folder)], check=False)


def _env(folder: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    return env | {
        "MERCURY_RAY_DIR": str(folder),
        "MERCURY_PROD_ENV": str(tmp_path / "prod_env"),
        "MERCURY_PROXY_PORT": str(_free_port()),  # not the session's Serve port: this is another Ray
        **extra,
    }


def _run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)


def _head_log(folder: Path) -> str:
    """The end of `ray start`'s output, for a failure's message (the folder is removed after the test)."""
    log = folder / "head.log"
    return "\nhead.log:\n" + log.read_text(errors="replace")[-3000:] if log.exists() else ""


def _wait_until_gone(state: HeadState) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while head_processes(state) or group_members(state.process_group):
        assert time.monotonic() < deadline, f"the head's processes {group_members(state.process_group)} remain"
        time.sleep(0.2)


def test_the_second_command_joins_the_head_the_first_started_and_down_ends_it(
    head_folder: Path, tmp_path: Path
) -> None:
    env = _env(head_folder, tmp_path, MERCURY_BACKGROUND_START="0")  # the first command waits for the cluster
    first = _run([str(BIN / "benchmark-run"), *SMALLEST, "-o", str(tmp_path / "out")], env, tmp_path)
    assert first.returncode == 0, first.stderr[-3000:] + _head_log(head_folder)
    started = read_state(head_folder)
    assert started is not None and head_processes(started), "no head runs after the first command"
    assert "deploying the proxy app" in first.stderr

    second = _run([str(BIN / "benchmark-run"), *SMALLEST, "--force", "-o", str(tmp_path / "out")], env, tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    assert read_state(head_folder) == started  # the same head: address, process group, watchdog
    assert f"joining the local Ray head at {started.gcs_address}" in second.stderr
    assert "proxy app 'mercury-proxy' is running on the cluster: using it" in second.stderr
    assert "deploying the proxy app" not in second.stderr

    status = _run([str(BIN / "mercury-cluster"), "status"], env, tmp_path)
    assert status.returncode == 0 and started.gcs_address in status.stdout
    down = _run([str(BIN / "mercury-cluster"), "down"], env, tmp_path)
    assert down.returncode == 0 and f"stopped the local Ray head at {started.gcs_address}" in down.stdout
    _wait_until_gone(started)  # `down` waits itself; this bounds a regression
    assert read_state(head_folder) is None and not Path(started.temp_dir).exists()
    assert started.watchdog_pid is not None and "jobs._head_watchdog" not in _command_line(started.watchdog_pid)
    again = _run([str(BIN / "mercury-cluster"), "status"], env, tmp_path)
    assert again.returncode == mercury_cluster.EXIT_NOT_RUNNING and "no local Ray head runs" in again.stdout


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def test_the_head_listens_on_loopback_only_and_stops_after_its_idle_time(head_folder: Path, tmp_path: Path) -> None:
    # 0.2 minutes: the watchdog (polling every 1.2 s) stops the head 12 s after its start, no driver connected
    env = _env(head_folder, tmp_path, MERCURY_RAY_IDLE_MINUTES="0.2")
    up = _run([str(BIN / "mercury-cluster"), "up"], env, tmp_path)
    assert up.returncode == 0, up.stderr[-3000:] + _head_log(head_folder)
    assert "stops after 0.2 idle minutes" in up.stdout
    state = read_state(head_folder)
    assert state is not None and state.idle_minutes == 0.2
    listening = _listening_addresses(head_processes(state))
    assert listening and listening <= {"127.0.0.1", "::ffff:127.0.0.1"}, listening
    _wait_until_gone(state)
    deadline = time.monotonic() + WAIT_SECONDS
    while read_state(head_folder) is not None:
        assert time.monotonic() < deadline, "the idle head's head.json was not removed"
        time.sleep(0.2)
    assert "idle for 0.2 minutes: stopped" in (head_folder / "watchdog.log").read_text()


def _listening_addresses(pids: list[int]) -> set[str]:
    """The local addresses the given processes listen on (TCP), from /proc: no tool needed."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                target = os.readlink(fd) if fd.is_symlink() else ""
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except OSError:
            continue
    hosts: set[str] = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                hosts.add(_decode_host(fields[1].split(":")[0], width))
    return hosts


def _decode_host(hex_host: str, width: int) -> str:
    raw = bytes.fromhex(hex_host)
    # /proc/net prints each 32-bit word in the host's (little-endian) byte order
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    if width == 8:
        return socket.inet_ntop(socket.AF_INET, words)
    return socket.inet_ntop(socket.AF_INET6, words)


def test_an_unreachable_ray_address_is_one_line(tmp_path: Path, head_folder: Path) -> None:
    port = _free_port()  # nothing listens there
    env = _env(head_folder, tmp_path, RAY_ADDRESS=f"127.0.0.1:{port}")
    result = _run([str(BIN / "benchmark-run"), *SMALLEST, "-o", str(tmp_path / "out")], env, tmp_path)
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(f"benchmark-run: error: cannot reach the Ray cluster at RAY_ADDRESS=127.0.0.1:{port}")
    assert "Traceback" not in result.stderr
    assert read_state(head_folder) is None  # RAY_ADDRESS set: no local head is started


def test_a_local_head_that_does_not_start_is_one_line_naming_its_log(
    head_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # the real `ray` with an option it does not know: it exits at once, as a broken Ray install would
    monkeypatch.setattr("jobs._local_head._ray_command", lambda: [str(BIN / "ray"), "--no-such-option"])
    assert mercury_cluster.main(["up"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("mercury-cluster: error: the local Ray head did not start (exit")
    log = head_folder / "head.log"
    assert f"its log is {log}" in err[0] and "no-such-option" in log.read_text()
    assert read_state(head_folder) is None


def test_a_bad_idle_time_names_the_variable(head_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERCURY_RAY_IDLE_MINUTES", "soon")
    with pytest.raises(LocalHeadError, match=r"MERCURY_RAY_IDLE_MINUTES='soon': the idle time must be a positive"):
        idle_minutes_setting()


@pytest.fixture
def token_head(tmp_path: Path) -> Iterator[str]:
    """A `ray start --head` with token authentication (its own token file), on loopback; its GCS address."""
    folder = Path(tempfile.mkdtemp(prefix="mht", dir="/tmp"))
    token = folder / "token"
    token.write_text("0123456789abcdef" * 4)
    port = _free_port()
    env = dict(os.environ, RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token), RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
    command = [
        str(BIN / "ray"), "start", "--head", "--block", f"--temp-dir={folder}", "--node-ip-address=127.0.0.1",
        "--num-cpus=1", f"--port={port}", f"--dashboard-port={_free_port()}", "--dashboard-host=127.0.0.1",
        f"--dashboard-agent-listen-port={_free_port()}", f"--metrics-export-port={_free_port()}",
        f"--ray-client-server-port={_free_port()}", f"--runtime-env-agent-port={_free_port()}",
    ]  # fmt: skip
    head = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline = time.monotonic() + WAIT_SECONDS
        while not (folder / "session_latest" / "logs" / "raylet.out").exists() or not _accepts(port):
            assert head.poll() is None and time.monotonic() < deadline, "the token head did not come up"
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait(timeout=60)
        subprocess.run(["rm", "-rf", str(folder)], check=False)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_a_token_protected_cluster_without_the_token_is_one_line(
    token_head: str, tmp_path: Path, head_folder: Path
) -> None:
    env = _env(head_folder, tmp_path, RAY_ADDRESS=token_head, RAY_AUTH_MODE="token")
    env["RAY_AUTH_TOKEN_PATH"] = str(tmp_path / "no-token-here")
    result = _run([str(BIN / "benchmark-run"), *SMALLEST, "-o", str(tmp_path / "out")], env, tmp_path)
    assert result.returncode == 2, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"benchmark-run: error: the Ray cluster at RAY_ADDRESS={token_head} wants an auth token")
    assert "no-token-here" in last and "Traceback" not in result.stderr


def test_a_proxy_with_another_state_folder_on_the_head_is_one_line(tmp_path: Path) -> None:
    """The local head outlives a command: a later command from another folder (another ./prod_env) would meet a
    proxy whose accounts refuse its key; it is told which folder the proxy uses and how to switch."""
    head = HeadState(gcs_address="127.0.0.1:1", dashboard_url="http://127.0.0.1:2", temp_dir=str(tmp_path / "t"),
                     process_group=1, idle_minutes=30, started_at=1.0)  # fmt: skip
    first, second = tmp_path / "a" / "prod_env", tmp_path / "b" / "prod_env"
    check_proxy_state(tmp_path, head, second)  # nothing recorded (proxy-server or serve deploy): no opinion
    record_proxy_state(tmp_path, head, first)
    check_proxy_state(tmp_path, head, first)
    with pytest.raises(LocalHeadError, match=rf"keeps its state in {first}, not in this command's {second}.*"
                       rf"MERCURY_PROD_ENV={first}.*mercury-cluster down"):  # fmt: skip
        check_proxy_state(tmp_path, head, second)
    restarted = head.model_copy(update={"started_at": 2.0})
    check_proxy_state(tmp_path, restarted, second)  # the record of an earlier head says nothing about this one


def test_a_command_s_settings_go_with_its_job_but_never_the_api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A job's runtime environment is shown on the dashboard: the proxy API key must not travel in it."""
    from jobs._ray import _forwarded_environment

    monkeypatch.setenv("MERCURY_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("MERCURY_API_KEY", "secret-key-never-forwarded")
    forwarded = _forwarded_environment()
    assert forwarded is not None and forwarded["env_vars"]["MERCURY_LOG_LEVEL"] == "WARNING"
    assert "MERCURY_API_KEY" not in forwarded["env_vars"]
    assert "secret-key-never-forwarded" not in repr(forwarded)
