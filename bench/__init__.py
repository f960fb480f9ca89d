"""Mercury's evaluation core: data model, scenarios, adapters, metrics, perturbations, runner.

Pure Python: nothing in bench/ imports Ray. Other folders import only the names listed here and in the
subpackages' `__all__`.
"""

from bench._builtins import load_builtins
from bench._credentials import CREDENTIAL_ENVIRONMENT_VARIABLES, Credentials, load_credentials
from bench._errors import (
    ConfigError,
    MercuryError,
    MissingFileError,
    ModelUnavailableError,
    PluginError,
    ResumeError,
    RunEntryError,
    RunError,
    ScenarioDataError,
    ShardFailedError,
    StorageError,
    UnknownModelError,
)
from bench._instance import (
    CORRECT_TAG,
    EVAL_SPLITS,
    TEST_SPLIT,
    TRAIN_SPLIT,
    VALID_SPLIT,
    Instance,
    PerturbationDescription,
    Reference,
)
from bench._object_spec import MetricSpec, ObjectSpec, PerturbationSpec, ScenarioSpec
from bench._plugins import PLUGIN_GROUP, load_plugins, local_plugin_paths
from bench._registry import Registry
from bench._request import ChatMessage, GeneratedOutput, Request, RequestResult, Token
from bench._settings import MercurySettings, settings
from bench._stat import MetricName, Stat, merge_stats

__all__ = [
    "CORRECT_TAG",
    "CREDENTIAL_ENVIRONMENT_VARIABLES",
    "EVAL_SPLITS",
    "PLUGIN_GROUP",
    "TEST_SPLIT",
    "TRAIN_SPLIT",
    "VALID_SPLIT",
    "ChatMessage",
    "ConfigError",
    "Credentials",
    "GeneratedOutput",
    "Instance",
    "MercuryError",
    "MercurySettings",
    "MetricName",
    "MetricSpec",
    "MissingFileError",
    "ModelUnavailableError",
    "ObjectSpec",
    "PerturbationDescription",
    "PerturbationSpec",
    "PluginError",
    "Reference",
    "Registry",
    "Request",
    "RequestResult",
    "ResumeError",
    "RunEntryError",
    "RunError",
    "ScenarioDataError",
    "ScenarioSpec",
    "ShardFailedError",
    "Stat",
    "StorageError",
    "Token",
    "UnknownModelError",
    "load_builtins",
    "load_credentials",
    "load_plugins",
    "local_plugin_paths",
    "merge_stats",
    "settings",
]
