"""The code sandbox: passes and failures, limits (time, CPU, memory), process-group kill, confinement.

What is claimed depends on the machine (`isolation()`): each confinement test checks the behaviour that
the reported isolation promises, so it is meaningful wherever it runs (here: namespaces and Landlock).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.metrics._sandbox import SandboxLimits, isolation, run_python

# Programs that should finish get a wall limit no busy CI machine reaches; only the timeout tests use a short one.
FAST = SandboxLimits(timeout_seconds=120.0, cpu_seconds=5, memory_bytes=256 << 20)
SHORT_WALL = SandboxLimits(timeout_seconds=1.0, cpu_seconds=5, memory_bytes=256 << 20)


def test_a_correct_program_passes() -> None:
    result = run_python("def add(a, b):\n    return a + b\n\nassert add(2, 3) == 5\n", FAST)
    assert result.passed and result.status == "passed" and result.returncode == 0


def test_a_wrong_program_fails_with_its_traceback() -> None:
    result = run_python("def add(a, b):\n    return a - b\n\nassert add(2, 3) == 5\n", FAST)
    assert result.status == "failed" and result.returncode == 1
    assert "AssertionError" in result.stderr_tail


def test_a_syntax_error_fails() -> None:
    result = run_python("def f(:\n", FAST)
    assert result.status == "failed" and "SyntaxError" in result.stderr_tail


def test_an_infinite_loop_is_stopped_on_the_wall_clock() -> None:
    result = run_python("while True:\n    pass\n", SHORT_WALL)
    # returncode None: the sandbox killed the group at its deadline (the CPU limit would give -24)
    assert result.status == "timeout" and result.returncode is None
    assert result.seconds >= SHORT_WALL.timeout_seconds


def test_a_sleeping_program_is_stopped_on_the_wall_clock() -> None:
    # No CPU is used, so only the wall-clock timeout can stop it.
    result = run_python("import time\ntime.sleep(60)\n", SHORT_WALL)
    assert result.status == "timeout" and result.returncode is None
    assert result.seconds >= SHORT_WALL.timeout_seconds


def test_the_cpu_limit_stops_a_busy_loop_before_the_wall_clock() -> None:
    # A wall limit far beyond 1 CPU-second even on a loaded machine: SIGXCPU (-24) proves the CPU limit acted.
    limits = SandboxLimits(timeout_seconds=300.0, cpu_seconds=1)
    result = run_python("while True:\n    pass\n", limits)
    assert result.status == "timeout" and result.returncode == -24  # SIGXCPU


def test_a_memory_hog_fails_with_memory_error() -> None:
    result = run_python("chunks = []\nwhile True:\n    chunks.append(bytearray(10**7))\n", FAST)
    assert result.status == "failed" and "MemoryError" in result.stderr_tail


def test_one_huge_allocation_fails() -> None:
    result = run_python("x = bytearray(8 << 30)\n", FAST)
    assert result.status == "failed" and "MemoryError" in result.stderr_tail


def test_output_beyond_the_file_size_limit_stops_the_program() -> None:
    limits = SandboxLimits(timeout_seconds=60.0, file_size_bytes=1 << 20)
    result = run_python("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n", limits)
    # Python ignores SIGXFSZ, so the write fails with EFBIG instead of the process being killed.
    assert result.status == "failed" and "File too large" in result.stderr_tail


def test_forked_children_are_killed_with_the_group() -> None:
    source = (
        "import os, sys, time\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    time.sleep(60)\n"
        "    os._exit(0)\n"
        "sys.stderr.write(f'child={pid}\\n')\n"
    )
    result = run_python(source, FAST)
    assert result.passed
    pid = int(result.stderr_tail.strip().split("=")[1])
    # SIGKILL is delivered asynchronously; then the child is gone, or a zombie awaiting its reaper (pid 1).
    assert _dies_within(pid, seconds=30.0)


def _dies_within(pid: int, seconds: float) -> bool:
    status = Path(f"/proc/{pid}/status")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if "State:\tZ" in status.read_text():
                return True
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


def test_the_environment_is_minimal_and_the_folder_is_fresh() -> None:
    source = (
        "import os, sys\n"
        "assert set(os.environ) <= {'PATH', 'LANG', 'HOME', 'TMPDIR', 'LC_CTYPE'}, sorted(os.environ)\n"
        "assert os.getcwd() == os.environ['HOME'] == os.environ['TMPDIR']\n"
        "assert sorted(os.listdir('.')) == ['program.py', 'stderr', 'stdout'], os.listdir('.')\n"
        "assert sys.flags.isolated == 1\n"
    )
    assert run_python(source, FAST).passed


def test_the_temporary_folder_is_removed() -> None:
    result = run_python("import os, sys\nsys.stderr.write(os.getcwd())\n", FAST)
    assert result.passed and not Path(result.stderr_tail).exists()


def test_writes_outside_the_folder_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "escaped.txt"
    source = f"open('inside.txt', 'w').write('ok')\nopen({str(outside)!r}, 'w').write('escaped')\n"
    result = run_python(source, FAST)
    if isolation().writes_confined:
        assert result.status == "failed" and "PermissionError" in result.stderr_tail
        assert not outside.exists()
    else:  # documented: without Landlock, writes are limited only by file permissions
        assert result.passed and outside.exists()


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections; yields its port."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                server.accept()[0].close()
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def test_the_network_is_unreachable(listener: int) -> None:
    source = f"import socket\nsocket.create_connection(('127.0.0.1', {listener}), timeout=2).close()\n"
    socket.create_connection(("127.0.0.1", listener), timeout=2).close()  # reachable from here
    result = run_python(source, FAST)
    assert result.passed is not isolation().network_blocked


def test_isolation_is_reported() -> None:
    found = isolation()
    assert found is isolation()  # probed once
    assert found.run_as_nobody is False or os.geteuid() == 0


SYSTEM_PYTHON = Path("/usr/bin/python3")


@pytest.fixture
def interpreter_nobody_can_run(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As root, with an interpreter outside /root: the sandbox runs its code as `nobody`."""
    if os.geteuid() != 0 or not SYSTEM_PYTHON.exists():
        pytest.skip("needs root and a system python3 (the `nobody` path)")
    monkeypatch.setattr(sys, "executable", str(SYSTEM_PYTHON))
    isolation.cache_clear()
    yield
    isolation.cache_clear()


def test_as_nobody_the_process_limit_stops_a_fork_bomb(interpreter_nobody_can_run: None) -> None:
    assert isolation().run_as_nobody
    source = (
        "import os, time\n"
        "for n in range(50):\n"
        "    try:\n"
        "        pid = os.fork()\n"
        "    except OSError as e:\n"
        "        raise SystemExit(f'stopped after {n}: {e.strerror}')\n"
        "    if pid == 0:\n"
        "        time.sleep(5)\n"
        "        os._exit(0)\n"
    )
    result = run_python(source, SandboxLimits(timeout_seconds=60.0, max_processes=5))
    assert result.status == "failed" and "Resource temporarily unavailable" in result.stderr_tail
    assert run_python("open('inside.txt', 'w').write('ok')\n", FAST).passed  # its folder belongs to nobody
