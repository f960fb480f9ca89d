"""Which credential a model's client needs, and the reason a model is unavailable without it."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bench import ConfigError, Credentials
from bench.models import ModelDeployment
from serve.clients import CLIENT_ARGS, missing_credential_reason, required_credential


def _deployment(client: str, **client_args: object) -> ModelDeployment:
    return ModelDeployment(
        name=f"{client}/m", client=client, tokenizer="openai/r50k_base", context_window=10, client_args=client_args
    )


def test_each_client_names_its_credential() -> None:
    assert set(CLIENT_ARGS) == {"openai", "ai21"}
    assert required_credential(_deployment("openai")) == "openaiApiKey"
    assert required_credential(_deployment("openai", credential="togetherApiKey")) == "togetherApiKey"
    assert required_credential(_deployment("openai", credential=None)) is None  # a server without keys
    assert required_credential(_deployment("ai21")) == "ai21ApiKey"
    assert required_credential(_deployment("simple")) is None and required_credential(_deployment("local")) is None
    with pytest.raises(ConfigError, match=r"model 'openai/m': key 'client_args\.colour'"):
        required_credential(_deployment("openai", colour="red"))


def test_the_reason_names_the_credential_and_its_variable_never_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("AI21_API_KEY", "TOGETHER_API_KEY"):
        monkeypatch.delenv(variable, raising=False)
    none = Credentials()
    assert missing_credential_reason(_deployment("ai21"), none) == (
        "missing credential ai21ApiKey: set it in the proxy's credentials.conf or the environment variable AI21_API_KEY"
    )
    assert missing_credential_reason(_deployment("openai", credential="myKey"), none) == (
        "missing credential myKey: set it in the proxy's credentials.conf"  # no variable is known for it
    )
    held = Credentials({"ai21ApiKey": SecretStr("k-1")})
    assert missing_credential_reason(_deployment("ai21"), held) is None
    assert missing_credential_reason(_deployment("ai21"), Credentials({"ai21ApiKey": SecretStr("")})) is not None
    monkeypatch.setenv("AI21_API_KEY", "k-2")
    assert missing_credential_reason(_deployment("ai21"), none) is None
    assert missing_credential_reason(_deployment("simple"), none) is None
