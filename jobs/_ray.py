"""Connecting benchmark-run to Ray: the cluster in RAY_ADDRESS (as under `ray job submit`), else the local head
that outlives one command (jobs/_local_head.py: started on first use, stopped after its idle time), else, with
--no-local-cluster or MERCURY_LOCAL_CLUSTER=0, a throwaway Ray for this command only.

A cluster that cannot be joined is one `RayConnectError` line, never Ray's traceback: the address is checked
with a plain TCP connection first (Ray itself retries an unreachable address for minutes, then exits the
process), and Ray's own errors (a cluster that wants an auth token this process lacks) are translated.
"""

from __future__ import annotations

import logging
import os
import socket
from urllib.parse import urlsplit

from bench import MercuryError, settings
from jobs._local_head import HEAD_ENVIRONMENT, HeadState, ensure_head, local_cluster_enabled
from jobs._logging import ray_init_options

logger = logging.getLogger(__name__)

REACH_TIMEOUT_SECONDS = 5.0
FORWARDED_PREFIX = "MERCURY_"
NOT_FORWARDED = frozenset({"MERCURY_API_KEY"})
"""A long-lived head keeps the environment of the command that started it; the MERCURY_ settings of this command
go with its job to its workers (never the API key: a job's runtime environment is shown on the dashboard)."""


class RayConnectError(MercuryError):
    """The Ray cluster cannot be joined: nothing answers at its address, or it wants an auth token."""


def connect_ray(local_cluster: bool = True) -> None:
    """Join the cluster named by RAY_ADDRESS, else the local head (started now if none runs), else (with
    `local_cluster` False or MERCURY_LOCAL_CLUSTER=0) start a Ray for this command. No-op if connected.

    Raises:
        RayConnectError: when the cluster in RAY_ADDRESS cannot be joined.
        LocalHeadError: when the local head does not start.
    """
    import ray

    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    address = settings().ray_address
    if address:
        logger.info("connecting to the Ray cluster at %s", address)
        _check_reachable(address)
        _init(address, f"the Ray cluster at RAY_ADDRESS={address}")
    elif local_cluster and local_cluster_enabled():
        global _joined_head
        head = _joined_head = ensure_head()
        logger.info("joining the local Ray head at %s (dashboard %s)", head.gcs_address, head.dashboard_url)
        _stay_on_loopback()
        _init(head.gcs_address, f"the local Ray head at {head.gcs_address}", runtime_env=_forwarded_environment())
    else:
        logger.info("starting a local Ray for this command")
        _init("local", "a new local Ray")
    resources = ray.cluster_resources()
    logger.info("Ray: %g CPUs, dashboard at %s", resources.get("CPU", 0), _dashboard_url())


_joined_head: HeadState | None = None


def joined_head() -> HeadState | None:
    """The local head this process joined (None: a cluster in RAY_ADDRESS, or a Ray of its own)."""
    return _joined_head


def _stay_on_loopback() -> None:
    """Join the head at 127.0.0.1 as it is: Ray replaces a loopback address with the machine's own (where the
    head does not listen) unless RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, which Ray reads once, when it is imported
    (here, usually before this runs); this process talks only to that head, whose auth is off."""
    from ray._private import ray_constants

    os.environ.update(HEAD_ENVIRONMENT)
    ray_constants.ENABLE_RAY_CLUSTER = False


def _forwarded_environment() -> dict[str, dict[str, str]] | None:
    env_vars = {
        name: value
        for name, value in os.environ.items()
        if name.startswith(FORWARDED_PREFIX) and name not in NOT_FORWARDED
    }
    return {"env_vars": env_vars} if env_vars else None


def _init(address: str, what: str, runtime_env: dict[str, dict[str, str]] | None = None) -> None:
    import ray
    from ray.exceptions import AuthenticationError

    try:
        ray.init(address=address, runtime_env=runtime_env, **ray_init_options())  # Ray's own lines only at DEBUG
    except AuthenticationError as error:
        raise RayConnectError(f"{what} wants an auth token: {_auth_hint(error)}") from None
    except (ConnectionError, RuntimeError, SystemExit) as error:  # Ray exits the process when the GCS never answers
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if "auth" in first.lower() or "unauthenticated" in first.lower():
            raise RayConnectError(f"{what} wants an auth token: {_auth_hint(error)}") from None
        raise RayConnectError(f"cannot join {what}: {first}") from None


def _auth_hint(error: BaseException) -> str:
    """What to set, without Ray's paragraph (and never a token)."""
    mode = os.environ.get("RAY_AUTH_MODE", "unset")
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    if mode.lower() != "token":
        return f"set RAY_AUTH_MODE=token (it is {mode}) and RAY_AUTH_TOKEN_PATH to the cluster's token file"
    if path:
        return f"RAY_AUTH_TOKEN_PATH={path} cannot be read or is empty; point it at the cluster's token file"
    if "RAY_AUTH_TOKEN" in os.environ:
        return "RAY_AUTH_TOKEN is not the cluster's token"
    return "no token found: set RAY_AUTH_TOKEN_PATH to the cluster's token file (or RAY_AUTH_TOKEN)"


def _check_reachable(address: str) -> None:
    """A TCP connection to the address's host and port, when it names them (`auto` and other forms are left
    to Ray, which answers those quickly)."""
    target = address if "://" in address else f"ray://{address}"
    try:
        parts = urlsplit(target)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise RayConnectError(f"RAY_ADDRESS={address!r} is not an address: host:port or ray://host:port") from None
    if not host or not port:
        return
    try:
        with socket.create_connection((host, port), timeout=REACH_TIMEOUT_SECONDS):
            return
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise RayConnectError(
            f"cannot reach the Ray cluster at RAY_ADDRESS={address} ({host}:{port}: {reason}); start it, fix "
            "RAY_ADDRESS, or unset it to use a local Ray"
        ) from None


def _dashboard_url() -> str:
    import ray

    try:
        return str((ray.get_runtime_context().gcs_address and ray.worker.get_dashboard_url()) or "not running")
    except Exception:  # the dashboard is optional; never fail a run over its address
        return "unknown"
