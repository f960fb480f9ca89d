"""`ray job submit ... -- benchmark-run ...` against a head started the way ray-cluster.yaml starts it.

The head gets the environment of ray-cluster.yaml's head start command (its venv and state folder mapped to this
machine; token auth off, as everywhere in tests) and a PATH without the venv, as a login shell on a fresh host has:
so the job's `benchmark-run` is found only if the yaml puts it there, and its proxy state is the yaml's folder,
never the job's unpacked working dir. The head runs in its own temporary folder and ports, beside the session's
Ray, and is torn down by killing exactly the processes of that folder (`ray stop` would stop every Ray on the
machine).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
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
import yaml

REPO = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
CLUSTER_YAML = REPO / "ray-cluster.yaml"
YAML_VENV = "/home/mercury/mercury-venv"
YAML_PROD_ENV = "/home/mercury/prod_env"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    """The environment of the `ray` CLI the user types (absolute path here): no proxy state of the session."""
    env = dict(os.environ, RAY_AUTH_MODE="disabled", RAY_USAGE_STATS_ENABLED="0")
    env.pop("MERCURY_PROD_ENV", None)
    return env


def _head_env(prod_env: Path) -> dict[str, str]:
    """The variables ray-cluster.yaml's head start command sets, mapped to this machine, over a PATH without
    the venv (as on a fresh host); token auth stays off in tests."""
    command = yaml.safe_load(CLUSTER_YAML.read_text())["head_start_ray_commands"][-1]
    plain_path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != BIN)
    env = _env()
    env["PATH"] = plain_path
    for word in shlex.split(command):
        name, sep, value = word.partition("=")
        if not sep or not name.isidentifier():
            break  # the assignments end where the command starts
        value = value.replace(YAML_VENV, str(BIN.parent)).replace(YAML_PROD_ENV, str(prod_env))
        env[name] = value.replace("$PATH", plain_path)
    env["RAY_AUTH_MODE"] = "disabled"
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


def _yaml_head_resources() -> list[str]:
    """The head's custom resources as ray-cluster.yaml starts it (where the proxy's state actors go)."""
    command = yaml.safe_load(CLUSTER_YAML.read_text())["head_start_ray_commands"][-1]
    return [word for word in shlex.split(command) if word.startswith("--resources=")]


@pytest.fixture(scope="module")
def head_prod_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The head's proxy state folder (ray-cluster.yaml's /home/mercury/prod_env)."""
    return tmp_path_factory.mktemp("head_prod_env")


@pytest.fixture(scope="module")
def metrics_port() -> int:
    """The head's Prometheus endpoint (Ray's metrics export port)."""
    return _free_port()


@pytest.fixture(scope="module")
def ray_head(head_prod_env: Path, metrics_port: int) -> Iterator[str]:
    """The dashboard address of a fresh `ray start --head` cluster (short temp path: Ray's sockets need it)."""
    folder = tempfile.mkdtemp(prefix="mrh", dir="/tmp")
    dashboard = _free_port()
    command = [
        str(BIN / "ray"), "start", "--head", "--block", f"--temp-dir={folder}", "--num-cpus=2",
        f"--port={_free_port()}", f"--dashboard-port={dashboard}", "--dashboard-host=127.0.0.1",
        f"--dashboard-agent-listen-port={_free_port()}", f"--metrics-export-port={metrics_port}",
        f"--ray-client-server-port={_free_port()}", f"--runtime-env-agent-port={_free_port()}",
        *_yaml_head_resources(),
    ]  # fmt: skip
    head = subprocess.Popen(command, env=_head_env(head_prod_env), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
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


def _submit(address: str, working_dir: Path, output: Path, proxy_port: int) -> subprocess.CompletedProcess[str]:
    """The README's command: `ray job submit --working-dir . -- benchmark-run ...`."""
    return subprocess.run(
        [str(BIN / "ray"), "job", "submit", "--address", address, "--working-dir", str(working_dir), "--",
         "benchmark-run", "-r", "simple1:model=simple/model1", "--max-eval-instances", "5", "-o", str(output),
         # the first job deploys the proxy app on that cluster (Serve's HTTP on this port), the next reuses it
         "--proxy-port", str(proxy_port)],
        env=_env(), capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_ray_job_submit_twice_with_an_edit_in_between(ray_head: str, head_prod_env: Path, tmp_path: Path) -> None:
    working_dir = tmp_path / "checkout"
    ignore = shutil.ignore_patterns(".venv", ".git", "benchmark_output", "prod_env", "__pycache__", ".*_cache")
    shutil.copytree(REPO, working_dir, ignore=ignore)
    port = _free_port()
    first = _submit(ray_head, working_dir, tmp_path / "first", port)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "Mercury run summary" in first.stdout  # the job's log streams back: progress and the final summary
    assert "succeeded" in first.stdout + first.stderr
    key_file = head_prod_env / "benchmark_api_key"
    assert key_file.is_file()  # the proxy's state is the head's fixed folder, not the job's working dir
    key = key_file.read_text()

    # an edit makes a new working-dir package, unpacked in a new folder: the state must not follow it
    (working_dir / "README.md").write_text((working_dir / "README.md").read_text() + "\nedited\n")
    second = _submit(ray_head, working_dir, tmp_path / "second", port)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    assert key_file.read_text() == key
    for output in ("first", "second"):
        run_dir = tmp_path / output / "runs" / "default" / "simple1:model=simple_model1"
        assert (run_dir / "stats.json").is_file()
        assert json.loads((run_dir / "run_info.json").read_text())["num_requests"] == 5
    assert not (working_dir / "prod_env").exists()


def test_the_runs_counters_reach_prometheus_zero_included(ray_head: str, metrics_port: int) -> None:
    # After the jobs above: every counter of the run has a series on the metrics port, errors at 0.
    wanted = ("ray_mercury_requests_done_total", "ray_mercury_cache_hits_total", "ray_mercury_request_errors_total",
              "ray_mercury_completion_tokens_total")  # fmt: skip
    found: dict[str, float] = {}
    deadline = time.monotonic() + 120  # the metrics agent exports every few seconds
    while time.monotonic() < deadline:
        text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
        found = {}
        for line in text.splitlines():
            name = line.split("{", 1)[0].split(" ", 1)[0]
            if name in wanted and 'run="simple1:model=simple_model1"' in line:
                found[name] = found.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
        if set(found) == set(wanted):
            break
        time.sleep(2)
    assert set(found) == set(wanted), f"series on the metrics port: {sorted(found)}"
    assert found["ray_mercury_request_errors_total"] == 0
    assert found["ray_mercury_requests_done_total"] >= 5
