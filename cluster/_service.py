"""Where a shard task gets its `ModelService`: a picklable factory, called once per worker process.

Today the factory builds `bench.models.InProcessService` inside the task; once the proxy app runs on Ray
Serve, a factory that wraps a DeploymentHandle plugs in the same way. A worker process runs many shards, so
the service a factory builds is kept per process (keyed by the pickled factory): the local model is loaded
once per worker, not once per shard.
"""

from __future__ import annotations

import logging
import pickle
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bench
from bench.models import InProcessService, ModelService

logger = logging.getLogger(__name__)

ServiceFactory = Callable[[], ModelService]
"""Builds the service a task sends its requests to; must pickle (it travels to the task)."""

_services: dict[bytes, ModelService] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class InProcessServiceFactory:
    """Builds an `InProcessService` in the task's process (simple and local models; hosted ones with keys).

    Args:
        deployments_file: configs/model_deployments.yaml by default.
        hosted_clients: also register the proxy's hosted clients (openai, ai21), as benchmark-run does.
    """

    deployments_file: str | None = None
    hosted_clients: bool = True

    def __call__(self) -> ModelService:
        bench.load_builtins()
        if self.hosted_clients:
            from serve import register_clients

            register_clients()
        return InProcessService(Path(self.deployments_file) if self.deployments_file else None)


def service_for(factory: ServiceFactory) -> ModelService:
    """The service `factory` builds, built once per process for equal factories."""
    try:
        key = pickle.dumps(factory)
    except Exception:  # an unpicklable-by-pickle factory (e.g. a closure sent by cloudpickle): no reuse
        return factory()
    with _lock:
        if key not in _services:
            _services[key] = factory()
        return _services[key]
