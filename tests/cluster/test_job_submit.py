"""`ray job submit ... -- benchmark-run ...` against a cluster started with `ray start --head`, as users do.

The head runs in its own temporary folder and ports, beside the session's Ray, and is torn down by killing
exactly the processes of that folder (`ray stop` would stop every Ray on the machine).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).parents[2]
BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    env = dict(os.environ, RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0")
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def _kill_processes_of(folder: str) -> None:
    """SIGKILL every process whose command line mentions `folder` (the head's temporary folder)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        if folder in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGKILL)


@pytest.fixture(scope="module")
def ray_head() -> Iterator[str]:
    """The dashboard address of a fresh `ray start --head` cluster (short temp path: Ray's sockets need it)."""
    folder = tempfile.mkdtemp(prefix="mrh", dir="/tmp")
    dashboard = _free_port()
    command = [
        str(BIN / "ray"), "start", "--head", "--block", f"--temp-dir={folder}", "--num-cpus=2",
        f"--port={_free_port()}", f"--dashboard-port={dashboard}", "--dashboard-host=127.0.0.1",
        f"--dashboard-agent-listen-port={_free_port()}", f"--metrics-export-port={_free_port()}",
        f"--ray-client-server-port={_free_port()}", f"--runtime-env-agent-port={_free_port()}",
    ]  # fmt: skip
    head = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    address = f"http://127.0.0.1:{dashboard}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{address}/api/version", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if head.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"`ray start --head` did not come up (exit {head.poll()})")
            time.sleep(0.5)
        yield address
    finally:
        head.terminate()
        _kill_processes_of(folder)


def test_ray_job_submit_runs_benchmark_run(ray_head: str, tmp_path: Path) -> None:
    output = tmp_path / "results"
    result = subprocess.run(
        [str(BIN / "ray"), "job", "submit", "--address", ray_head, "--working-dir", str(REPO), "--",
         "benchmark-run", "-r", "simple1:model=simple/model1", "--max-eval-instances", "5", "-o", str(output),
         # the job deploys the proxy app on that cluster (Serve's HTTP on a free port) and runs through it
         "--proxy-port", str(_free_port())],
        env=_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Mercury run summary" in result.stdout  # the job's log streams back: progress and the final summary
    assert "succeeded" in result.stdout + result.stderr
    run_dir = output / "runs" / "default" / "simple1:model=simple_model1"
    assert (run_dir / "stats.json").is_file()
    assert json.loads((run_dir / "run_info.json").read_text())["num_requests"] == 5
