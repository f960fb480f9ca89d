"""Fixtures of the cluster tests: one local Ray for the session (the S3 server is tests/s3_server.py's).

Ray starts once per session (about 5 s) with 2 CPUs, auth off, usage stats off, on loopback.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
REPO_ROOT = Path(__file__).parents[2]


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
