"""Every MercuryError crosses a pickle intact (Ray carries errors from tasks and actors that way)."""

from __future__ import annotations

import pickle

import pytest

from bench import (
    ConfigError,
    MercuryError,
    PluginError,
    ResumeError,
    RunEntryError,
    ScenarioDataError,
    StorageError,
    UnknownModelError,
)
from serve import CredentialMissingError, QuotaExceededError


@pytest.mark.parametrize(
    "error",
    [
        RunEntryError("mmlu:subject=", "empty value"),
        ConfigError("configs/x.yaml", "bad key"),
        UnknownModelError("nope/model", ["simple/model1"]),
        ScenarioDataError("no file at data/x.json"),
        PluginError("my_task", "--plugins", "ModuleNotFoundError: No module named 'my_task'"),
        StorageError("write", "s3://b/x", "access denied"),
        ResumeError("run", "s3://b/runs", "other instances"),
        QuotaExceededError(model_group="openai", granularity="daily", used=5, quota=5, tokens=1),
        CredentialMissingError(model="openai/gpt-4o", credential="openaiApiKey", where="credentials.conf"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_pickle_with_their_fields(error: MercuryError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error) and str(copy) == str(error)
    assert copy.__dict__ == error.__dict__
