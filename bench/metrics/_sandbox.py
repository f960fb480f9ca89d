"""Running untrusted Python (model-written code) in a separate, limited process.

`run_python(source)` writes `source` to a fresh temporary folder and runs `python -I` on it there, with:

- resource limits set in the child before exec (`resource.setrlimit`): address space (a memory hog gets a
  MemoryError), CPU seconds (SIGXCPU), size of any file written (SIGXFSZ) and number of processes;
- a wall-clock timeout; on expiry the whole process group (the child is a session leader) is killed, so a
  solution that sleeps or forks is stopped too;
- a minimal environment (PATH, LANG, HOME and TMPDIR pointing at the temporary folder) and that folder as
  the working directory; `-I` ignores PYTHON* variables, the user's site-packages and the current folder.

Isolation beyond limits, applied when this machine supports it (`isolation()` says what is in effect):

- **no network**: the child enters new user and network namespaces (`unshare(CLONE_NEWUSER|CLONE_NEWNET)`,
  what `unshare -rn` does): it sees only its own loopback, which is down, so every connection fails. Where
  namespaces are unavailable, Landlock (Linux >= 6.7, ABI 4) denies TCP connect and bind; otherwise the
  network is reachable (best effort) and a warning is logged once.
- **no writes outside the temporary folder**: Landlock (Linux >= 5.13) allows creating, writing, removing
  and renaming files only beneath it (reading stays allowed, so the interpreter and its libraries load).
  Without Landlock, writes are limited only by file permissions.
- **not root**: when Mercury runs as root the child runs as `nobody`, so file permissions apply and the
  kernel enforces the process limit (it never limits root's processes).

These are the operating system's protections, not Python-level patches: the code cannot undo them.
Known gap: a process running as root (with an interpreter `nobody` cannot reach, e.g. under /root) keeps
root's exemption from the process limit; a fork bomb is then stopped only by the timeout's group kill.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import os
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

logger = logging.getLogger(__name__)

NOBODY = 65534
"""uid and gid the child runs as when the parent is root."""

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
PR_SET_NO_NEW_PRIVS = 38

# Landlock system calls have the same numbers on every architecture (they postdate the unified table).
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
LANDLOCK_NET_BIND_TCP = 1
LANDLOCK_NET_CONNECT_TCP = 2
# Filesystem rights that change something: write, remove, make (char, dir, reg, sock, fifo, block, sym).
_FS_WRITE_V1 = (1 << 1) | sum(1 << bit for bit in range(4, 13))
_FS_REFER = 1 << 13  # ABI 2: link or rename across folders
_FS_TRUNCATE = 1 << 14  # ABI 3

SandboxStatus = Literal["passed", "failed", "timeout"]


@dataclass(frozen=True)
class SandboxLimits:
    """Limits of one sandboxed run."""

    timeout_seconds: float = 10.0
    """Wall-clock seconds before the process group is killed."""
    cpu_seconds: int = 10
    """CPU seconds before the kernel stops the process (SIGXCPU)."""
    memory_bytes: int = 1 << 30
    """Address space; allocations beyond it fail (MemoryError)."""
    file_size_bytes: int = 16 << 20
    """Largest file the process may write, its captured output included."""
    max_processes: int = 64
    """Processes and threads of the child's user (not enforced by the kernel for root, hence `nobody`)."""


@dataclass(frozen=True)
class SandboxResult:
    """How a sandboxed program ended."""

    status: SandboxStatus
    """passed: exit status 0; failed: any other end (exception, signal, limit); timeout: killed on time."""
    returncode: int | None
    """Exit status, negative for a signal; None when it was killed on timeout."""
    stderr_tail: str
    """The last lines the program wrote to stderr (its traceback, usually)."""
    seconds: float

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass(frozen=True)
class Isolation:
    """Which protections this machine gives sandboxed code (see the module docstring)."""

    network_namespace: bool
    landlock_abi: int
    """0 when Landlock is unavailable."""
    run_as_nobody: bool

    @property
    def network_blocked(self) -> bool:
        return self.network_namespace or self.landlock_abi >= 4

    @property
    def writes_confined(self) -> bool:
        return self.landlock_abi >= 1


def run_python(source: str, limits: SandboxLimits | None = None) -> SandboxResult:
    """Run `source` as a Python program in a fresh temporary folder, isolated and limited.

    Args:
        source: the whole program; it passes when it exits with status 0.
        limits: resource limits; the defaults suit one HumanEval problem.

    Returns:
        The outcome. A program that loops or allocates without end is stopped and reported as
        `timeout` or `failed`, never left running.

    Raises:
        OSError: when the child process cannot be started at all (not a property of `source`).
    """
    limits = limits or SandboxLimits()
    protections = isolation()
    with tempfile.TemporaryDirectory(prefix="mercury-sandbox-") as tmp:
        folder = Path(tmp)
        program = folder / "program.py"
        program.write_text(source, encoding="utf-8")
        if protections.run_as_nobody:
            os.chown(folder, NOBODY, NOBODY)
        with (folder / "stdout").open("wb") as out, (folder / "stderr").open("wb") as err:
            started = time.perf_counter()
            returncode = _run(program, folder, out.fileno(), err.fileno(), limits, protections)
            seconds = time.perf_counter() - started
        stderr_tail = _tail(folder / "stderr")
    if returncode is None:
        return SandboxResult("timeout", None, stderr_tail, seconds)
    if returncode == -signal.SIGXCPU:
        return SandboxResult("timeout", returncode, stderr_tail, seconds)
    return SandboxResult("passed" if returncode == 0 else "failed", returncode, stderr_tail, seconds)


def _run(program: Path, folder: Path, out: int, err: int, limits: SandboxLimits, protections: Isolation) -> int | None:
    """Start the child, wait at most the timeout, kill its process group; the exit status or None on timeout."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(folder), "TMPDIR": str(folder)}
    nobody = protections.run_as_nobody
    process = subprocess.Popen(
        [sys.executable, "-I", program.name],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=err,
        start_new_session=True,
        preexec_fn=functools.partial(_confine, str(folder), limits, protections),
        close_fds=True,
        user=NOBODY if nobody else None,
        group=NOBODY if nobody else None,
        extra_groups=[] if nobody else None,
    )
    try:
        return process.wait(timeout=limits.timeout_seconds)
    except subprocess.TimeoutExpired:
        return None
    finally:
        _kill_group(process)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill everything left in the child's process group (forked helpers too), then reap the child."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _confine(folder: str, limits: SandboxLimits, protections: Isolation) -> None:
    """Runs in the child between fork and exec (already as `nobody` when the parent is root)."""
    cpu = max(1, int(limits.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_bytes, limits.file_size_bytes))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.max_processes, limits.max_processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if protections.network_namespace:
        _unshare_network()
    if protections.landlock_abi:
        _landlock(folder, protections.landlock_abi)


@functools.cache
def _libc() -> ctypes.CDLL:
    """The C library, loaded once in the parent (`isolation()` does it first) so no child ever runs dlopen."""
    return ctypes.CDLL(None, use_errno=True)


def _unshare_network() -> None:
    """Move the calling process into new user and network namespaces (no interface is up in the new one)."""
    if _libc().unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"unshare: {os.strerror(error)}")


def _landlock(folder: str, abi: int) -> None:
    """Allow changes to files only beneath `folder`; with ABI >= 4 also deny every TCP connect and bind."""
    libc = _libc()
    write = _FS_WRITE_V1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0)
    if abi >= 4:
        attr = struct.pack("<QQ", write, LANDLOCK_NET_BIND_TCP | LANDLOCK_NET_CONNECT_TCP)
    else:
        attr = struct.pack("<Q", write)
    ruleset = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.c_char_p(attr), ctypes.c_size_t(len(attr)), 0)
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset")
    fd = os.open(folder, os.O_PATH | os.O_CLOEXEC)
    try:
        beneath = struct.pack("<Qi", write, fd)  # struct landlock_path_beneath_attr is packed
        if libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, ctypes.c_char_p(beneath), 0):
            raise OSError(ctypes.get_errno(), "landlock_add_rule")
    finally:
        os.close(fd)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
        raise OSError(ctypes.get_errno(), "landlock_restrict_self")
    os.close(ruleset)


@functools.cache
def isolation() -> Isolation:
    """The protections available here, probed once per process (and logged once)."""
    _libc()  # loaded here, before any fork
    # As root, run as nobody only if nobody can start this interpreter (a venv under /root cannot).
    as_nobody = os.geteuid() == 0 and _probe(as_nobody=True, unshare=False)
    found = Isolation(
        network_namespace=_probe(as_nobody=as_nobody, unshare=True),
        landlock_abi=_landlock_abi(),
        run_as_nobody=as_nobody,
    )
    gaps = [
        gap
        for gap, closed in (
            ("reach the network", found.network_blocked),
            ("write files outside its folder", found.writes_confined),
            ("start unlimited processes (running as root)", os.geteuid() != 0 or as_nobody),
        )
        if not closed
    ]
    if gaps:
        logger.warning(
            "code sandbox %s: sandboxed code can %s; limits and timeouts still apply", found, ", ".join(gaps)
        )
    else:
        logger.info("code sandbox: %s", found)
    return found


def _landlock_abi() -> int:
    """Landlock's ABI version, 0 when the kernel lacks it."""
    try:
        version = _libc().syscall(
            SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0), LANDLOCK_CREATE_RULESET_VERSION
        )
    except (OSError, AttributeError):
        return 0
    return max(0, int(version))


def _probe(*, as_nobody: bool, unshare: bool) -> bool:
    """Whether a child can start this interpreter as `nobody` (or as us) and, with `unshare`, in new namespaces."""
    try:
        subprocess.run(
            [sys.executable, "-I", "-c", "pass"],
            preexec_fn=_unshare_network if unshare else None,
            env={"PATH": "/usr/bin:/bin"},
            cwd="/",
            check=True,
            capture_output=True,
            timeout=30,
            user=NOBODY if as_nobody else None,
            group=NOBODY if as_nobody else None,
            extra_groups=[] if as_nobody else None,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def _tail(path: Path, max_chars: int = 2000) -> str:
    """The end of a (possibly huge) output file, decoded leniently."""
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - max_chars))
        return f.read().decode("utf-8", errors="replace")
