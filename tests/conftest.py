"""Session-wide test setup: built-in plug-ins registered once, registries restored after each test."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Ray in tests: no token auth (it would turn auth on for later `ray` CLI calls), no usage stats, and a
# single-node cluster kept on loopback. Set before anything imports Ray.
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

import bench
from tests.s3_server import BUCKET, S3Server, free_port, start_rclone

# The local Ray head that benchmark-run starts when RAY_ADDRESS is unset (jobs/_local_head.py) lives in a folder of
# this session, never the user's (~/.cache/mercury/ray): a benchmark-run of a test, in this process or a
# subprocess, can never join or stop a head of the user's, and `_local_head_folder` stops whatever head was
# started there when the session ends.
LOCAL_HEAD_FOLDER = Path(tempfile.mkdtemp(prefix="mercury-ray-tests-"))
os.environ["MERCURY_RAY_DIR"] = str(LOCAL_HEAD_FOLDER)
os.environ["MERCURY_RAY_IDLE_MINUTES"] = "10"  # if this session is killed, its head goes away soon anyway

# One Serve port for the session, whoever starts Serve first: the `ray_serve_port` fixture, or benchmark-run
# (which deploys the proxy app on $MERCURY_PROXY_PORT when it runs on Ray).
with socket.socket() as _sock:
    _sock.bind(("127.0.0.1", 0))
    SERVE_PORT: int = _sock.getsockname()[1]
os.environ["MERCURY_PROXY_PORT"] = str(SERVE_PORT)
PROXY_APP = "mercury-proxy"
# A command of a test that finds no local head starts it and waits (never a background bring-up, which would
# outlive the command, deploy a proxy app on the session's Serve port before `ray_serve_port` binds it, and answer
# other tests' requests with its own accounts); tests/jobs/test_bring_up.py turns the background start on in
# heads of its own.
os.environ["MERCURY_BACKGROUND_START"] = "0"


@pytest.fixture(scope="session", autouse=True)
def _local_head_folder() -> Iterator[Path]:
    """The session's local-head folder; at the end, the head a test's benchmark-run started there (in the
    background too) is stopped (this process leaves it first if it joined it) and the folder removed."""
    yield LOCAL_HEAD_FOLDER
    from jobs._bring_up import wait_for_bring_up
    from jobs._local_head import read_state, stop_head

    wait_for_bring_up(LOCAL_HEAD_FOLDER)  # a first command's background start must not outlive the session

    state = read_state(LOCAL_HEAD_FOLDER)
    if state is not None and "ray" in sys.modules:
        import ray

        if ray.is_initialized() and ray.get_runtime_context().gcs_address == state.gcs_address:
            ray.shutdown()
    stop_head(LOCAL_HEAD_FOLDER)
    shutil.rmtree(LOCAL_HEAD_FOLDER, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def _builtins() -> None:
    bench.load_builtins()


@pytest.fixture(scope="session", autouse=True)
def _proxy_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The proxy's state folder (MERCURY_PROD_ENV) of every benchmark-run in the session: never ./prod_env."""
    previous = os.environ.get("MERCURY_PROD_ENV")
    os.environ["MERCURY_PROD_ENV"] = str(tmp_path_factory.mktemp("prod_env"))
    yield
    if previous is None:
        os.environ.pop("MERCURY_PROD_ENV", None)
    else:
        os.environ["MERCURY_PROD_ENV"] = previous


@pytest.fixture(scope="module", autouse=True)
def _remove_proxy_app(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a module outside tests/jobs (whose conftest removes it once, at the end of the folder), remove the
    proxy app a benchmark-run deployed: it holds Serve's route '/', which the proxy's own tests deploy on."""
    yield
    if "jobs" in Path(str(request.node.path)).parts:
        return
    remove_proxy_app()


def remove_proxy_app() -> None:
    """Delete the app `mercury-proxy` if Ray and Serve run and it is deployed."""
    if "ray" not in sys.modules:
        return
    import ray

    if not ray.is_initialized():
        return
    from ray import serve

    try:
        applications = serve.status().applications
    except Exception:  # Serve is not running
        return
    if PROXY_APP in applications:
        serve.delete(PROXY_APP)


@pytest.fixture
def restore_registries() -> Iterator[None]:
    """Use in a test that registers its own plug-ins: every registry is put back afterwards."""
    from bench.adaptation import ADAPTERS
    from bench.augmentation import DATA_AUGMENTATIONS, PERTURBATIONS
    from bench.metrics import METRICS
    from bench.models import CLIENTS
    from bench.run_specs import RUN_SPEC_FUNCTIONS
    from bench.scenarios import SCENARIOS
    from bench.tokenizers import TOKENIZERS

    registries: list[bench.Registry] = [
        ADAPTERS,
        METRICS,
        CLIENTS,
        RUN_SPEC_FUNCTIONS,
        SCENARIOS,
        TOKENIZERS,
        PERTURBATIONS,
        DATA_AUGMENTATIONS,
    ]
    snapshots = [r.snapshot() for r in registries]
    yield
    for registry, snapshot in zip(registries, snapshots):
        registry.restore(snapshot)


@pytest.fixture(scope="session")
def ray_serve_port() -> Iterator[int]:
    """Ray Serve on a free loopback port, once per session, on the session's Ray (started here, 2 CPUs, if no
    other fixture started one: the cluster tests share it). Shared by the proxy's tests (tests/serve) and
    benchmark-run's (tests/jobs), so that Serve starts once with a port they all know."""
    import ray
    from ray import serve

    port = SERVE_PORT
    started = not ray.is_initialized()
    if started:
        # as tests/cluster/conftest.py does, so that either may start the session's Ray: workers import tests.*
        root = str(Path(__file__).parents[1])
        python_path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        ray.init(
            address="local",
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": {"PYTHONPATH": python_path}},
        )
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    yield port
    serve.shutdown()
    if started:
        ray.shutdown()


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """`rclone serve s3` on 127.0.0.1 with one bucket, `results`."""
    root = tmp_path_factory.mktemp("s3")
    (root / BUCKET).mkdir()
    port = free_port()
    process = start_rclone(root, port)
    yield S3Server(endpoint=f"http://127.0.0.1:{port}", root=root)
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """The driver's environment pointed at the S3 server for one test."""
    for key, value in s3_server.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return s3_server
