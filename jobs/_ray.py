"""Connecting benchmark-run to Ray: the cluster in RAY_ADDRESS (as under `ray job submit`) or a new local one."""

from __future__ import annotations

import logging
import os

from bench import settings
from jobs._logging import ray_init_options

logger = logging.getLogger(__name__)


def connect_ray() -> None:
    """Join the cluster named by RAY_ADDRESS, else start a local Ray for this command (no-op if connected)."""
    import ray

    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    address = settings().ray_address or "local"
    logger.info("connecting to Ray at %s", address if address != "local" else "a new local instance")
    ray.init(address=address, **ray_init_options())  # Ray's and Serve's own lines only at DEBUG
    resources = ray.cluster_resources()
    logger.info("Ray: %g CPUs, dashboard at %s", resources.get("CPU", 0), _dashboard_url())


def _dashboard_url() -> str:
    import ray

    try:
        return str((ray.get_runtime_context().gcs_address and ray.worker.get_dashboard_url()) or "not running")
    except Exception:  # the dashboard is optional; never fail a run over its address
        return "unknown"
