"""Which credential a model's client needs, and whether the proxy has it: so that the proxy can say a model is
unavailable, and what to set, before anyone sends it a request (the client itself only finds out when it is built).
"""

from __future__ import annotations

from bench import CREDENTIAL_ENVIRONMENT_VARIABLES, Credentials
from bench.models import ModelDeployment
from serve.clients._ai21 import AI21Args
from serve.clients._openai import OpenAIArgs
from serve.clients._provider import ProviderArgs, parse_client_args

CLIENT_ARGS: dict[str, type[ProviderArgs]] = {"openai": OpenAIArgs, "ai21": AI21Args}
"""Client name -> the `client_args` model of that client, whose `credential` field names the key it needs.
Clients not listed here (simple, local) need no credential."""


def required_credential(deployment: ModelDeployment) -> str | None:
    """The credentials.conf name of the key `deployment` needs (e.g. 'openaiApiKey'); None when it needs none
    (an offline model, or an OpenAI-compatible server configured with `credential: null`).

    Raises:
        ConfigError: for client_args its client does not accept (naming the model and the key).
    """
    args_model = CLIENT_ARGS.get(deployment.client)
    if args_model is None:
        return None
    return parse_client_args(args_model, deployment).credential or None


def missing_credential_reason(deployment: ModelDeployment, credentials: Credentials) -> str | None:
    """Why `deployment` cannot be served for want of a credential, naming the credential and where it may be set
    (never a value, never a path of the server); None when it needs none or has it."""
    name = required_credential(deployment)
    if name is None:
        return None
    value = credentials.get(name)
    if value is not None and value.get_secret_value():
        return None
    variable = CREDENTIAL_ENVIRONMENT_VARIABLES.get(name)
    where = f" or the environment variable {variable}" if variable else ""
    return f"missing credential {name}: set it in the proxy's credentials.conf{where}"
