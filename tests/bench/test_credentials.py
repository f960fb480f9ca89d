"""Credentials from the file and the environment; secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import ConfigError
from bench._credentials import load_credentials


def test_reads_original_form_and_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "credentials.conf").write_text(
        "# keys\nopenaiApiKey: \"sk-file\"\nai21ApiKey: plain-value  # comment\nperspectiveApiKey = 'p'\n"
    )
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("AI21_API_KEY", raising=False)
    credentials = load_credentials(tmp_path)
    assert credentials.require("openaiApiKey").get_secret_value() == "sk-file"
    assert credentials.require("ai21ApiKey").get_secret_value() == "plain-value"
    assert credentials.require("perspectiveApiKey").get_secret_value() == "p"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    assert credentials.require("openaiApiKey").get_secret_value() == "sk-env"
    assert "sk-" not in repr(credentials) and "plain-value" not in repr(credentials)


def test_missing_credential_names_key_file_and_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AI21_API_KEY", raising=False)
    with pytest.raises(ConfigError, match=r"credentials.conf: missing credential 'ai21ApiKey'.*AI21_API_KEY"):
        load_credentials(tmp_path).require("ai21ApiKey")


def test_bad_line_does_not_echo_its_content(tmp_path: Path) -> None:
    (tmp_path / "credentials.conf").write_text("sk-secret-without-a-name\n")
    with pytest.raises(ConfigError, match=r"credentials.conf:1: expected") as raised:
        load_credentials(tmp_path)
    assert "sk-secret" not in str(raised.value)
