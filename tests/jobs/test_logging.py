"""One clean screen (jobs/_logging.py): Ray's and Serve's own lines reach the user only at --log-level DEBUG.

The last two tests run `benchmark-run` as users do (a new process, its own local Ray, stderr to a file) and
read what it printed; the others check the switches in this process.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from jobs._logging import QUIET_RAY_LEVEL, QUIETED_WARNINGS, SERVE_LOGGER, configure_logging, ray_init_options
from tests.serve.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]

NOISE = {
    "token-auth notice": "Token authentication is",
    "Serve's controller warning": "Cannot deregister",
    "a worker's line": "(pid=",
    "a deprecation": "DeprecationWarning",
    "Serve's driver INFO": "Started Serve in namespace",
}
"""Lines Ray and Serve print at their defaults (seen in benchmark-run's output before this module quieted them)."""


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide state: the root's handlers and level, Ray's logger level."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    ray_level = logging.getLogger("ray").level
    yield
    configure_logging("INFO")  # re-arms the Serve filter and the warning filters for the default
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("ray").setLevel(ray_level)
    logging.captureWarnings(False)


def _serve_lets_through(level: int) -> bool:
    record = logging.LogRecord(SERVE_LOGGER, level, __file__, 1, "Started Serve", None, None)
    return bool(logging.getLogger(SERVE_LOGGER).filter(record))


def test_default_level_quiets_ray_serve_workers_and_deprecations(restore_logging: None) -> None:
    import ray  # noqa: F401  (Ray sets its logger's level when imported: ray_init_options must set it after)

    configure_logging("INFO")
    options = ray_init_options()
    assert options["log_to_driver"] is False and options["configure_logging"] is False
    assert logging.getLogger("ray").level == QUIET_RAY_LEVEL
    assert not _serve_lets_through(logging.WARNING) and _serve_lets_through(logging.ERROR)
    with warnings.catch_warnings(record=True) as caught:
        configure_logging("INFO")  # inside catch_warnings, which reset the filters
        warnings.warn("old", DeprecationWarning, stacklevel=1)
        warnings.warn("changing", FutureWarning, stacklevel=1)
    assert caught == []


def test_debug_lets_ray_and_serve_speak(restore_logging: None) -> None:
    import ray  # noqa: F401

    configure_logging("DEBUG")
    options = ray_init_options()
    assert options["log_to_driver"] is True
    assert logging.getLogger("ray").level == logging.DEBUG
    assert _serve_lets_through(logging.INFO)
    first = {category: next(f[0] for f in warnings.filters if f[2] is category) for category in QUIETED_WARNINGS}
    assert first == dict.fromkeys(QUIETED_WARNINGS, "default")  # shown (through logging), not ignored


BARS = """
import sys
from jobs._logging import configure_logging
configure_logging(sys.argv[1])
from tqdm import tqdm  # as transformers does when it converts the GGUF model
from jobs._progress import _bar
theirs = tqdm(total=3, file=sys.stdout)
_bar("ours", 3, "req")  # draws its empty bar on stderr when it is shown
print(f"\\ndisabled={theirs.disable}")
"""


@pytest.mark.parametrize(("level", "theirs_disabled"), [("INFO", True), ("DEBUG", False)])
def test_other_libraries_bars_are_off_unless_debug(level: str, theirs_disabled: bool) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TQDM_DISABLE"}
    done = subprocess.run(
        [sys.executable, "-c", BARS, level], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert f"\ndisabled={theirs_disabled}\n" in done.stdout
    assert "ours:   0%" in done.stderr  # Mercury's own bar is shown at every level up to INFO


def run_benchmark(tmp_path: Path, *flags: str) -> str:
    """benchmark-run on the simple model in a new process with its own local Ray; its stderr (a file: no TTY).

    HOME is a temporary folder and RAY_AUTH_MODE is unset, as on a newcomer's machine: Ray then turns token auth
    on and says so, writing its token under this HOME, never the real one."""
    env = {k: v for k, v in os.environ.items() if k not in {"RAY_ADDRESS", "RAY_AUTH_MODE", "MERCURY_LOG_LEVEL"}}
    (tmp_path / "home").mkdir()
    env |= {
        "HOME": str(tmp_path / "home"),
        "MERCURY_PROD_ENV": str(tmp_path / "prod_env"),
        "MERCURY_PROXY_PORT": str(free_port()),  # not the session's Serve port
        "MERCURY_LOCAL_CLUSTER": "0",  # a Ray of its own, new as on a newcomer's first command (not the suite's head)
    }
    command = [sys.executable, "-m", "jobs.benchmark_run", "-r", "simple1", "-m", "simple/model1"]
    command += ["--max-eval-instances", "5", "-o", str(tmp_path / "out"), *flags]
    stderr_path = tmp_path / "stderr.log"
    with open(stderr_path, "w") as stderr:
        done = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True, timeout=800)
    printed = stderr_path.read_text()
    assert done.returncode == 0, printed[-3000:]
    return printed


@pytest.mark.timeout(900)
def test_benchmark_run_prints_no_ray_or_serve_noise_and_no_carriage_return(tmp_path: Path) -> None:
    printed = run_benchmark(tmp_path)
    shown = {what: line for what, line in NOISE.items() if line in printed}
    assert shown == {}, printed
    assert "\r" not in printed  # stderr is a file: progress comes as lines
    finished = [line for line in printed.splitlines() if "simple1:model=simple_model1: 5/5 inst in" in line]
    assert len(finished) == 1, printed


@pytest.mark.timeout(900)
def test_at_debug_ray_and_serve_speak(tmp_path: Path) -> None:
    printed = run_benchmark(tmp_path, "--log-level", "DEBUG")
    # these two are certain on a new local cluster; the others (a controller's warning, workers' lines) may be
    assert NOISE["token-auth notice"] in printed and NOISE["Serve's driver INFO"] in printed
