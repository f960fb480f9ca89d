"""configs/model_deployments.yaml: the real file, where it is found, and the errors bad files give."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import bench
from bench import ConfigError, UnknownModelError
from bench.models import config_dir, get_deployment, load_deployments, model_groups, models_in_group
from bench.tokenizers import TOKENIZERS

REPO_CONFIGS = Path(bench.__file__).resolve().parents[1] / "configs"
REAL_FILE = REPO_CONFIGS / "model_deployments.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "model_deployments.yaml"
    path.write_text(text)
    return path


def test_real_file_loads() -> None:
    deployments = load_deployments(REAL_FILE)
    assert list(deployments)[:2] == ["simple/model1", "local/smollm2-135m"]
    assert len(deployments) == 10
    mini = deployments["openai/gpt-4o-mini"]
    assert (mini.client, mini.tokenizer, mini.context_window) == ("openai", "openai/o200k_base", 128000)
    assert mini.estimate_cost(1_000_000, 1_000_000) == pytest.approx(0.15 + 0.60)
    assert deployments["openai/text-davinci-002"].tokenizer == "openai/p50k_base"
    assert "approximate" in deployments["ai21/jamba-1.5-large"].description
    # every tokenizer the file names is registered
    assert {d.tokenizer for d in deployments.values()} <= set(TOKENIZERS.names())


def test_groups() -> None:
    assert models_in_group("offline", REAL_FILE) == ["simple/model1", "local/smollm2-135m"]
    assert models_in_group("ai21", REAL_FILE) == ["ai21/jamba-1.5-mini", "ai21/jamba-1.5-large"]
    assert models_in_group("all", REAL_FILE) == list(load_deployments(REAL_FILE))
    assert models_in_group("no-such-group", REAL_FILE) == []
    assert {"all", "offline", "openai", "hosted"} <= set(model_groups(REAL_FILE))


def test_unknown_model_lists_known_ones() -> None:
    with pytest.raises(UnknownModelError, match=r"unknown model 'openai/gpt-5'.*openai/gpt-4o-mini"):
        get_deployment("openai/gpt-5", REAL_FILE)


def test_config_dir_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MERCURY_CONFIG_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert config_dir() == REPO_CONFIGS  # ./configs lacks the file: the repo's configs/
    (tmp_path / "configs").mkdir()
    write(tmp_path / "configs", "model_deployments: []\n")
    assert config_dir() == tmp_path / "configs"
    monkeypatch.setenv("MERCURY_CONFIG_DIR", str(tmp_path / "elsewhere"))
    assert config_dir() == tmp_path / "elsewhere"


def test_default_path_follows_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "model_deployments:\n  - {name: t/one, client: simple, tokenizer: x, context_window: 5}\n")
    monkeypatch.setenv("MERCURY_CONFIG_DIR", str(tmp_path))
    assert list(load_deployments()) == ["t/one"]


def test_edited_file_is_read_again(tmp_path: Path) -> None:
    path = write(tmp_path, "model_deployments:\n  - {name: t/one, client: simple, tokenizer: x, context_window: 5}\n")
    assert list(load_deployments(path)) == ["t/one"]
    path.write_text("model_deployments:\n  - {name: t/two, client: simple, tokenizer: x, context_window: 5}\n")
    os.utime(path, ns=(1, 1))  # a different mtime even on coarse file systems
    assert list(load_deployments(path)) == ["t/two"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("model_deployments: [\n", r"invalid YAML"),
        ("- just a list\n", r"top level must be a mapping"),
        ("deployments: []\n", r"key 'model_deployments': Field required.*key 'deployments': Extra inputs"),
        (
            "model_deployments:\n  - {name: t/x, client: simple, tokenizer: x, context_window: -1}\n",
            r"entry 't/x': key 'context_window': Input should be greater than 0",
        ),
        (
            "model_deployments:\n  - {client: simple, tokenizer: x, context_window: 5}\n",
            r"entry 0: key 'name': Field required",
        ),
        (
            "model_deployments:\n  - {name: t/x, client: simple, tokenizer: x, context_window: 5, colour: red}\n",
            r"entry 't/x': key 'colour': Extra inputs are not permitted",
        ),
        ("model_deployments:\n  - 3\n", r"entry 0: Input should be a valid dictionary"),
        (
            "model_deployments:\n  - {name: nope, client: simple, tokenizer: x, context_window: 5}\n",
            r"entry 'nope': key 'name': must be 'provider/model'",
        ),
        (
            "model_deployments:\n"
            "  - {name: t/x, client: simple, tokenizer: x, context_window: 5}\n"
            "  - {name: t/x, client: simple, tokenizer: y, context_window: 5}\n",
            r"entry 1: key 'name': duplicate model name 't/x'",
        ),
    ],
)
def test_bad_files_name_file_entry_key_and_problem(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=expected) as caught:
        load_deployments(path)
    assert caught.value.path == str(path.resolve())


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the model deployments file"):
        load_deployments(tmp_path / "absent.yaml")
