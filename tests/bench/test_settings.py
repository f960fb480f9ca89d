"""bench.settings(): every environment variable Mercury reads, typed, with its default; a bad value is one
ConfigError naming the variable, the value and the rule; the README's table lists exactly these variables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import ConfigError, MercurySettings, settings

VARIABLES = {
    "MERCURY_CONFIG_DIR",
    "MERCURY_CACHE_DIR",
    "MERCURY_PROD_ENV",
    "MERCURY_PROXY_PORT",
    "MERCURY_API_KEY",
    "MERCURY_LOG_LEVEL",
    "MERCURY_RAY_DIR",
    "MERCURY_RAY_IDLE_MINUTES",
    "MERCURY_LOCAL_CLUSTER",
    "MERCURY_BACKGROUND_START",
    "MERCURY_WARM_WORKERS",
    "MERCURY_WARM_WORKER_IDLE_SECONDS",
    "RAY_ADDRESS",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """None of the variables set (the session sets some: MERCURY_PROD_ENV, MERCURY_PROXY_PORT)."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("HOME", str(tmp_path))
    current = settings()
    assert current.config_dir is None and current.proxy_port is None and current.api_key is None
    assert current.cache_dir == tmp_path / ".cache" / "mercury"
    assert current.prod_env == Path("prod_env")
    assert current.log_level == "INFO"
    assert current.ray_address is None and current.s3_endpoint_url is None


def test_values_from_the_environment_are_read_at_each_call(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("HOME", str(tmp_path))
    clean_env.setenv("MERCURY_CONFIG_DIR", "~/configs")
    clean_env.setenv("MERCURY_CACHE_DIR", str(tmp_path / "cache"))
    clean_env.setenv("MERCURY_PROD_ENV", "/srv/prod_env")
    clean_env.setenv("MERCURY_PROXY_PORT", "8443")
    clean_env.setenv("MERCURY_API_KEY", "sk-secret")
    clean_env.setenv("MERCURY_LOG_LEVEL", "debug")
    clean_env.setenv("RAY_ADDRESS", "auto")
    clean_env.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000")
    current = settings()
    assert current.config_dir == tmp_path / "configs"  # ~ expanded
    assert current.cache_dir == tmp_path / "cache" and current.prod_env == Path("/srv/prod_env")
    assert current.proxy_port == 8443 and current.log_level == "DEBUG" and current.ray_address == "auto"
    assert current.api_key is not None and current.api_key.get_secret_value() == "sk-secret"
    assert "sk-secret" not in repr(current)
    assert current.s3_endpoint_url == "http://127.0.0.1:9000"
    clean_env.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9001")  # the S3-specific one wins, as in AWS's SDKs
    clean_env.setenv("MERCURY_PROXY_PORT", "")  # empty: unset
    assert settings().s3_endpoint_url == "http://127.0.0.1:9001" and settings().proxy_port is None


@pytest.mark.parametrize(
    ("variable", "value", "rule"),
    [
        ("MERCURY_PROXY_PORT", "http", "'http': Input should be a valid integer, unable to parse string as an integer"),
        ("MERCURY_PROXY_PORT", "70000", "'70000': Input should be less than or equal to 65535"),
        ("MERCURY_LOG_LEVEL", "loud", "'loud': Input should be 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL'"),
    ],
)
def test_a_bad_value_names_the_variable_the_value_and_the_rule(
    clean_env: pytest.MonkeyPatch, variable: str, value: str, rule: str
) -> None:
    clean_env.setenv(variable, value)
    with pytest.raises(ConfigError) as info:
        settings()
    assert str(info.value) == f"environment variable {variable}: {rule}"


def test_only_the_environment_is_a_source(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MERCURY_PROXY_PORT=1234\n")
    clean_env.chdir(tmp_path)
    clean_env.setenv("mercury_proxy_port", "4321")  # names are case-sensitive, as the shell's are
    assert settings().proxy_port is None


def test_the_readme_table_lists_every_variable() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme.split("### Settings", 1)[1].split("\n#", 1)[0]
    listed = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", "\n".join(re.findall(r"^\| ([^|]*)\|", table, flags=re.M))))
    aliases = {
        name
        for field in MercurySettings.model_fields.values()
        for name in re.findall(r"[A-Z][A-Z0-9_]+", str(field.validation_alias))
    }
    assert aliases == VARIABLES
    assert listed >= VARIABLES


def test_every_mercury_variable_named_in_the_code_is_a_setting() -> None:
    """A new MERCURY_ variable read somewhere (os.environ) instead of through the settings object fails here."""
    root = Path(__file__).parents[2]
    named = {
        name
        for folder in ("bench", "serve", "cluster", "jobs")
        for source in (root / folder).rglob("*.py")
        for name in re.findall(r"[\"'](MERCURY_[A-Z0-9_]+)[\"']", source.read_text())
    }
    assert named <= VARIABLES, f"read outside bench.settings(): {sorted(named - VARIABLES)}"
