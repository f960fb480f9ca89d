"""Models: deployments (configs/model_deployments.yaml) and the clients that answer requests in-process.

Built-in clients (registered by `bench.load_builtins()`): simple (deterministic test model) and local
(SmolLM2-135M-Instruct on the CPU).
"""

from bench.models._client import CLIENTS, ModelClient, client
from bench.models._deployment import ModelDeployment
from bench.models._deployments import config_dir, get_deployment, load_deployments, model_groups, models_in_group
from bench.models._in_process import InProcessService
from bench.models._service import ModelService

__all__ = [
    "CLIENTS",
    "InProcessService",
    "ModelClient",
    "ModelDeployment",
    "ModelService",
    "client",
    "config_dir",
    "get_deployment",
    "load_deployments",
    "model_groups",
    "models_in_group",
]
