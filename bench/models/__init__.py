"""Models: deployments (configs/model_deployments.yaml) and the clients that answer requests in-process.

Built-in clients (registered by `bench.load_builtins()`): simple (deterministic test model) and local
(SmolLM2-135M-Instruct on the CPU). Every client can stream (`ModelClient.stream_request`): the local model
sends each token's text as it is generated, the others their finished answer token by token.
"""

from bench.models._client import CLIENTS, ModelClient, client
from bench.models._deployment import ModelDeployment
from bench.models._deployments import config_dir, get_deployment, load_deployments, model_groups, models_in_group
from bench.models._in_process import InProcessService
from bench.models._service import ModelService, StreamingModelService
from bench.models._streaming import (
    DeltaCallback,
    DeltaSink,
    StreamCancelled,
    StreamedText,
    TextDelta,
    completion_deltas,
    pieces,
    stream_finished,
)

__all__ = [
    "CLIENTS",
    "DeltaCallback",
    "DeltaSink",
    "InProcessService",
    "ModelClient",
    "ModelDeployment",
    "ModelService",
    "StreamCancelled",
    "StreamedText",
    "StreamingModelService",
    "TextDelta",
    "client",
    "completion_deltas",
    "config_dir",
    "get_deployment",
    "load_deployments",
    "model_groups",
    "models_in_group",
    "pieces",
    "stream_finished",
]
