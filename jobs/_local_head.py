"""A local Ray head that outlives one command, so that a second `benchmark-run` pays neither Ray's start-up nor
the proxy's deployment again (Ray users work the same way with `ray start --head`).

Where it lives: `$MERCURY_RAY_DIR`, else `$MERCURY_CACHE_DIR/ray`, else `~/.cache/mercury/ray`:
  head.json   the running head: GCS address, dashboard URL, its process group, its watchdog, its Ray temp folder
  head.log    what `ray start --head` printed (read it when the head did not start)
  lock        held while a command finds or starts the head, so two commands never start two heads
Ray's own temp folder (sessions, logs, sockets) is `<folder>/tmp`, or `/tmp/mercury-ray-<hash>` when that path is
too long for the Unix sockets Ray puts in it (108 bytes); it is removed when the head stops.

How long it lives: until no driver has been connected for `$MERCURY_RAY_IDLE_MINUTES` (default 30) minutes, then
its watchdog (`python -m jobs._head_watchdog FOLDER`, started with it) ends it; or until `mercury-cluster down`.
Only that head's processes are ended (its own process group, checked against its temp folder), never with
`ray stop`, which ends every Ray of the machine.

Security: Ray's token authentication is off (`RAY_AUTH_MODE=disabled`: a token would make every later Ray CLI and
`ray.init` of the user's depend on it) and every port is bound to 127.0.0.1 instead (`--node-ip-address`,
`--dashboard-host`, `RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`), so only processes of this machine reach it; as with any
local Ray, any local user can. It is a single-node head: no other machine can join it.

Settings (environment): MERCURY_RAY_DIR, MERCURY_RAY_IDLE_MINUTES, and MERCURY_LOCAL_CLUSTER=0 to opt out (one
throwaway Ray per command, as `--no-local-cluster`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from bench import ConfigError, MercuryError, MercurySettings, settings
from jobs._module_command import module_command

logger = logging.getLogger(__name__)

FOLDER_VARIABLE = "MERCURY_RAY_DIR"
IDLE_VARIABLE = "MERCURY_RAY_IDLE_MINUTES"
OPT_OUT_VARIABLE = "MERCURY_LOCAL_CLUSTER"
DEFAULT_IDLE_MINUTES: float = MercurySettings.model_fields["ray_idle_minutes"].default
_IDLE_RULE = "the idle time must be a positive number of minutes (e.g. 30)"
STATE_FILE = "head.json"
LOG_FILE = "head.log"
LOCK_FILE = "lock"
USED_FILE = "used"
"""Touched (under the lock) each time a command is handed the head: the watchdog never stops a head that a
command has just been given but not yet joined."""
START_TIMEOUT_SECONDS = 180.0
"""`ray start --head` takes 5-15 s here; a loaded machine may take much longer before it fails by itself."""
START_ATTEMPTS = 2
STOP_GRACE_SECONDS = 5.0
"""SIGTERM first (Ray's processes flush their logs), SIGKILL for what is left after this."""
MAX_TEMP_DIR_LENGTH = 40
"""Ray's socket paths are <temp dir>/session_<date>_<pid>/sockets/plasma_store (66 more characters) within 107."""
HEAD_ENVIRONMENT = {
    "RAY_AUTH_MODE": "disabled",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",  # keeps a single-node cluster on loopback
}


class LocalHeadError(MercuryError):
    """The local Ray head could not be started, found or stopped; the message says where its log is."""


class HeadState(BaseModel):
    """What head.json records about the running local head."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gcs_address: str = Field(description="host:port of the head's GCS: what drivers join")
    dashboard_url: str = Field(description="the Ray dashboard of the head (loopback only)")
    temp_dir: str = Field(description="Ray's temp folder of the head; its processes name it on their command line")
    process_group: int = Field(description="the process group of every process of the head")
    watchdog_pid: int | None = Field(default=None, description="the idle watchdog's process (its own group)")
    idle_minutes: float = Field(description="the watchdog stops the head after this long without a driver")
    started_at: float = Field(description="time.time() when the head was started")


# --- settings --------------------------------------------------------------------------------------------------


def head_folder() -> Path:
    """The folder of the local head: $MERCURY_RAY_DIR, else $MERCURY_CACHE_DIR/ray, else ~/.cache/mercury/ray."""
    current = settings()
    return (current.ray_dir or current.cache_dir / "ray").absolute()


def idle_minutes_setting(value: float | str | None = None) -> float:
    """The idle time after which the head stops: `value`, else $MERCURY_RAY_IDLE_MINUTES, else 30 minutes.

    Raises:
        LocalHeadError: when the value is not a positive number.
    """
    if value is None:
        try:
            return settings().ray_idle_minutes
        except ConfigError as error:
            raise LocalHeadError(f"{IDLE_VARIABLE}={os.environ.get(IDLE_VARIABLE)!r}: {_IDLE_RULE} ({error})") from None
    source = "--idle-minutes"
    try:
        minutes = float(value)
    except ValueError:
        minutes = -1.0
    if not minutes > 0 or minutes == float("inf"):
        raise LocalHeadError(f"{source}={value!r}: {_IDLE_RULE}")
    return minutes


def local_cluster_enabled() -> bool:
    """False when $MERCURY_LOCAL_CLUSTER is 0/false/no/off: every command starts and ends its own Ray."""
    return settings().local_cluster


# --- processes -------------------------------------------------------------------------------------------------


def _process_group_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may hold spaces: fields after the last ')' are fixed
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[2])  # state, ppid, pgrp


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def group_members(process_group: int) -> list[int]:
    """The live processes of a process group (zombies excluded: they are already ended)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _process_group_of(int(entry.name)) == process_group:
            try:
                if Path(f"/proc/{entry.name}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
            except (OSError, IndexError):
                continue
            members.append(int(entry.name))
    return members


def head_processes(state: HeadState) -> list[int]:
    """The processes of this head: its process group, if a member still names its temp folder (so that a
    reused process group id of some other program is never taken for the head)."""
    members = group_members(state.process_group)
    if any(state.temp_dir in _command_line(pid) for pid in members):
        return members
    return []


def _port_open(address: str, timeout: float = 2.0) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def head_alive(state: HeadState) -> bool:
    """The head's processes run and its GCS accepts connections."""
    return bool(head_processes(state)) and _port_open(state.gcs_address)


def _watchdog_alive(state: HeadState) -> bool:
    pid = state.watchdog_pid
    return pid is not None and "jobs._head_watchdog" in _command_line(pid)


# --- head.json -------------------------------------------------------------------------------------------------


def read_state(folder: Path) -> HeadState | None:
    """head.json, or None when there is none (or it is unreadable: a head that never finished starting)."""
    try:
        return HeadState.model_validate_json((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_state(folder: Path, state: HeadState) -> None:
    partial = folder / (STATE_FILE + ".partial")
    partial.write_text(state.model_dump_json(indent=2), encoding="utf-8")
    partial.replace(folder / STATE_FILE)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Only one command at a time finds, starts or stops the head of `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_FILE, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def find_head(folder: Path) -> HeadState | None:
    """The running head of `folder`, or None (a head.json whose head is gone is not a running head)."""
    state = read_state(folder)
    return state if state is not None and head_alive(state) else None


# --- the proxy's state folder ----------------------------------------------------------------------------------

PROXY_FILE = "proxy.json"
"""The state folder (prod_env) of the proxy app deployed on the running head, with the head it belongs to."""


def record_proxy_state(folder: Path, head: HeadState, prod_env: Path) -> None:
    """Remember that the proxy app on `head` keeps its state in `prod_env` (benchmark-run deployed it now)."""
    record = {"gcs_address": head.gcs_address, "started_at": head.started_at, "prod_env": str(prod_env)}
    partial = folder / (PROXY_FILE + ".partial")
    partial.write_text(json.dumps(record), encoding="utf-8")
    partial.replace(folder / PROXY_FILE)


def check_proxy_state(folder: Path, head: HeadState, prod_env: Path) -> None:
    """Fail in one line when the proxy app running on `head` keeps its state in another folder than this
    command's: its accounts do not know this folder's benchmark key, so every request would be refused.

    Raises:
        LocalHeadError: naming both folders and the two ways out.
    """
    try:
        record = json.loads((folder / PROXY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # deployed by another tool (proxy-server, serve deploy) or before this was recorded: no opinion
    if record.get("gcs_address") != head.gcs_address or record.get("started_at") != head.started_at:
        return  # a record of an earlier head
    deployed = Path(record.get("prod_env", ""))
    if deployed != prod_env:
        raise LocalHeadError(
            f"the proxy app on the local Ray head keeps its state in {deployed}, not in this command's {prod_env} "
            f"(./prod_env or MERCURY_PROD_ENV): run with MERCURY_PROD_ENV={deployed}, or stop the head "
            "(`mercury-cluster down`) to start over with this folder"
        )


# --- start and stop --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ray_temp_dir(folder: Path) -> Path:
    own = folder / "tmp"
    if len(str(own)) <= MAX_TEMP_DIR_LENGTH:
        return own
    digest = hashlib.sha256(str(folder).encode()).hexdigest()[:10]
    return Path("/tmp") / f"mercury-ray-{digest}"


def _ray_command() -> list[str]:
    """`ray` of this Python (the venv's), whatever PATH holds."""
    script = Path(sys.executable).parent / "ray"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-P", "-c", "import sys; from ray.scripts.scripts import main; sys.exit(main())"]


def ensure_head(folder: Path | None = None, idle_minutes: float | None = None) -> HeadState:
    """The running local head of `folder` (default `head_folder()`), started now if there is none.

    Raises:
        LocalHeadError: when the head does not start (the message names its log).
    """
    folder = folder or head_folder()
    try:
        with _locked(folder):
            state = find_head(folder)
            if state is None:
                _stop_leftovers(folder)
                state = _start_head_retrying(folder, idle_minutes_setting(idle_minutes))
            elif not _watchdog_alive(state):  # killed by someone: a head nobody stops would live forever
                state = state.model_copy(update={"watchdog_pid": _start_watchdog(folder)})
                _write_state(folder, state)
            (folder / USED_FILE).touch()
            return state
    except OSError as error:
        raise LocalHeadError(f"cannot use the local Ray head's folder {folder}: {error}") from None


def last_used(folder: Path) -> float:
    """When a command was last handed the head of `folder` (0 if never)."""
    try:
        return (folder / USED_FILE).stat().st_mtime
    except OSError:
        return 0.0


def _start_head_retrying(folder: Path, idle_minutes: float) -> HeadState:
    """`_start_head`, once more after a failure: on a loaded machine `ray start` gives up when its raylet has
    not registered within Ray's fixed 30 s ("The current node timed out during startup"), and a second try
    usually succeeds; a broken install fails twice, quickly."""
    (folder / LOG_FILE).write_text("", encoding="utf-8")  # this start's attempts only
    for attempt in range(1, START_ATTEMPTS + 1):
        try:
            return _start_head(folder, idle_minutes)
        except LocalHeadError:
            if attempt == START_ATTEMPTS:
                raise
            logger.warning("the local Ray head did not start (see %s); trying once more", folder / LOG_FILE)
    raise AssertionError("unreachable")


def _start_head(folder: Path, idle_minutes: float) -> HeadState:
    temp_dir = _ray_temp_dir(folder)
    shutil.rmtree(temp_dir, ignore_errors=True)  # a stale ray_current_cluster there confuses Ray
    temp_dir.mkdir(parents=True, exist_ok=True)
    gcs_port, dashboard_port = _free_port(), _free_port()
    command = [
        *_ray_command(), "start", "--head", f"--temp-dir={temp_dir}", "--node-ip-address=127.0.0.1",
        f"--port={gcs_port}", f"--dashboard-port={dashboard_port}", "--dashboard-host=127.0.0.1",
        f"--dashboard-agent-listen-port={_free_port()}", f"--metrics-export-port={_free_port()}",
        f"--ray-client-server-port={_free_port()}", f"--runtime-env-agent-port={_free_port()}",
        f"--node-manager-port={_free_port()}", f"--object-manager-port={_free_port()}", "--disable-usage-stats",
    ]  # fmt: skip
    log_path = folder / LOG_FILE
    logger.info("starting a local Ray head (in %s; it stops after %g idle minutes)", folder, idle_minutes)
    with open(log_path, "a", encoding="utf-8") as log:
        # its own session: the head's processes form one process group, which stop_head ends exactly
        starter = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ | HEAD_ENVIRONMENT,
            start_new_session=True,
        )
        try:
            code = starter.wait(timeout=START_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            code = None
    state = HeadState(
        gcs_address=f"127.0.0.1:{gcs_port}",
        dashboard_url=f"http://127.0.0.1:{dashboard_port}",
        temp_dir=str(temp_dir),
        process_group=starter.pid,
        idle_minutes=idle_minutes,
        started_at=time.time(),
    )
    if code != 0 or not head_alive(state):
        _end_processes(state)
        outcome = f"exit status {code}" if code is not None else f"no answer in {START_TIMEOUT_SECONDS:g} s"
        raise LocalHeadError(
            f"the local Ray head did not start ({outcome}); its log is {log_path} (Ray's own logs: "
            f"{temp_dir}/session_latest/logs); or run without it: --no-local-cluster"
        )
    _write_state(folder, state)  # first: the watchdog reads it
    state = state.model_copy(update={"watchdog_pid": _start_watchdog(folder)})
    _write_state(folder, state)
    return state


def _start_watchdog(folder: Path) -> int:
    """The idle watchdog of the head of `folder`, in its own session (a command's Ctrl-C must not end it)."""
    with open(folder / "watchdog.log", "a", encoding="utf-8") as log:
        watchdog = subprocess.Popen(
            module_command("jobs._head_watchdog", str(folder)),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ | HEAD_ENVIRONMENT,
            start_new_session=True,
        )
    return watchdog.pid


def _end_processes(state: HeadState, timeout: float = 60.0) -> None:
    """SIGTERM the head's process group, SIGKILL what is left after a grace period, wait until it is gone.

    Raises:
        LocalHeadError: when processes of the head are still there after `timeout` seconds.
    """
    if not head_processes(state):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(state.process_group, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    killed = False
    while head_processes(state) or group_members(state.process_group):
        now = time.monotonic()
        if not killed and now > deadline - timeout + STOP_GRACE_SECONDS:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(state.process_group, signal.SIGKILL)
            killed = True
        if now > deadline:
            raise LocalHeadError(
                f"the local Ray head's processes {group_members(state.process_group)} are still running "
                f"{timeout:g} s after being stopped"
            )
        time.sleep(0.1)


def _stop_leftovers(folder: Path) -> None:
    """What a head.json names but no longer forms a working head (a half-dead head) is ended and forgotten."""
    state = read_state(folder)
    if state is not None:
        _end_processes(state)
        _forget(folder, state)


def _forget(folder: Path, state: HeadState) -> None:
    (folder / STATE_FILE).unlink(missing_ok=True)
    shutil.rmtree(state.temp_dir, ignore_errors=True)


def stop_head(
    folder: Path | None = None, *, from_watchdog: bool = False, idle_since: float | None = None
) -> HeadState | None:
    """End the local head of `folder` and its watchdog; the state that was running, or None if none was (or,
    with `idle_since`, if a command was handed the head after that time: it is about to join it).

    Raises:
        LocalHeadError: when its processes do not end.
    """
    folder = folder or head_folder()
    with _locked(folder):
        state = read_state(folder)
        if state is None or (idle_since is not None and last_used(folder) > idle_since):
            return None
        if not from_watchdog and _watchdog_alive(state):
            assert state.watchdog_pid is not None
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.watchdog_pid, signal.SIGTERM)
        _end_processes(state)
        _forget(folder, state)
        return state
