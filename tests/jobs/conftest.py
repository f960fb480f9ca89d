"""Fixtures of benchmark-run's tests: the session's Ray + Serve (tests/conftest.py), which benchmark-run deploys
the proxy app `mercury-proxy` on the first time it runs on Ray and reuses afterwards (its state in the
session's MERCURY_PROD_ENV, set by tests/conftest.py). The app is removed when this folder's tests end.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import remove_proxy_app


@pytest.fixture(scope="package", autouse=True)
def proxy_env(ray_serve_port: int) -> Iterator[Path]:
    """The proxy's state folder while Ray and Serve run; the deployed app is removed after this folder."""
    yield Path(os.environ["MERCURY_PROD_ENV"])
    remove_proxy_app()
