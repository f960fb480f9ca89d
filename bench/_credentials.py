"""Credentials: `prod_env/credentials.conf` or environment variables, held as `SecretStr`.

The file uses the original proxy's form, one `key: value` per line (quotes optional, `#` comments):

    openaiApiKey: "sk-..."
    ai21ApiKey: ...
    perspectiveApiKey: ...

An environment variable wins over the file (OPENAI_API_KEY for openaiApiKey, and so on), so a job can be
given a key without writing it to disk. Secrets never appear in a repr, a log line or an error message.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from pydantic import SecretStr

from bench._errors import ConfigError

CREDENTIALS_FILE = "credentials.conf"
DEFAULT_BASE_PATH = "prod_env"

ENVIRONMENT_VARIABLES: dict[str, str] = {
    "openaiApiKey": "OPENAI_API_KEY",
    "openaiOrgId": "OPENAI_ORG_ID",
    "ai21ApiKey": "AI21_API_KEY",
    "perspectiveApiKey": "PERSPECTIVE_API_KEY",
    "togetherApiKey": "TOGETHER_API_KEY",
}
"""Credential name -> environment variable that may hold it instead."""

CREDENTIAL_ENVIRONMENT_VARIABLES = ENVIRONMENT_VARIABLES
"""The same table under its public name (serve/ names the variable when it says a credential is missing)."""

_LINE = re.compile(r"""^\s*([A-Za-z_][\w.-]*)\s*[:=]\s*(?:"([^"]*)"|'([^']*)'|(\S[^#]*?))?\s*(?:#.*)?$""")


class Credentials:
    """Named secrets; `get` answers None for a missing one, `require` says which key is missing."""

    def __init__(self, values: dict[str, SecretStr] | None = None, source: str = "") -> None:
        self._values = dict(values or {})
        self.source = source

    def get(self, name: str) -> SecretStr | None:
        """The secret `name`: from its environment variable first, then from the file."""
        variable = ENVIRONMENT_VARIABLES.get(name)
        if variable and os.environ.get(variable):
            return SecretStr(os.environ[variable])
        return self._values.get(name)

    def require(self, name: str) -> SecretStr:
        """The secret `name`.

        Raises:
            ConfigError: naming the missing key, the file and the environment variable that may hold it.
        """
        value = self.get(name)
        if value is None:
            variable = ENVIRONMENT_VARIABLES.get(name)
            where = f" or the environment variable {variable}" if variable else ""
            raise ConfigError(self.source or CREDENTIALS_FILE, f"missing credential {name!r}: set it there{where}")
        return value

    def names(self) -> list[str]:
        """Names of the credentials available (never their values)."""
        from_env = [name for name, var in ENVIRONMENT_VARIABLES.items() if os.environ.get(var)]
        return sorted(set(self._values) | set(from_env))

    def __repr__(self) -> str:
        return f"Credentials(names={self.names()!r}, source={self.source!r})"


def load_credentials(base_path: str | Path = DEFAULT_BASE_PATH) -> Credentials:
    """Credentials from `<base_path>/credentials.conf` (absent file: environment variables only).

    Raises:
        ConfigError: for a line that is not `key: value`, naming the file and line (not its content).
    """
    path = Path(base_path) / CREDENTIALS_FILE
    values: dict[str, SecretStr] = {}
    if path.is_file():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith(("#", "//")):
                continue
            match = _LINE.match(line)
            if match is None:
                raise ConfigError(
                    f"{path}:{number}", "expected `name: value` (the line is not shown: it may hold a secret)"
                )
            value = next((g for g in match.groups()[1:] if g is not None), "")
            values[match.group(1)] = SecretStr(value.strip())
    return Credentials(values, source=str(path))
