"""Models: deployments (configs/model_deployments.yaml) and the clients that answer requests in-process."""

from bench.models._client import CLIENTS, ModelClient, client
from bench.models._deployment import ModelDeployment

__all__ = ["CLIENTS", "ModelClient", "ModelDeployment", "client"]
