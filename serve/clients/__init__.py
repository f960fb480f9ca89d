"""Hosted-provider clients (openai, ai21), registered in bench's client registry by `register_clients()`.

Registration is explicit, not an import side effect: importing serve leaves bench's registry as it was
(bench's own tests check that hosted models are not served in-process by default).
"""

from serve.clients._ai21 import AI21Args, AI21Client, ai21_client
from serve.clients._credentials import CLIENT_ARGS, missing_credential_reason, required_credential
from serve.clients._openai import OpenAIArgs, OpenAIClient, openai_client
from serve.clients._provider import ProviderClient, resolve_credential
from serve.clients._retry import Pacer, Retrier

__all__ = [
    "CLIENT_ARGS",
    "AI21Args",
    "AI21Client",
    "OpenAIArgs",
    "OpenAIClient",
    "Pacer",
    "ProviderClient",
    "Retrier",
    "ai21_client",
    "missing_credential_reason",
    "openai_client",
    "register_clients",
    "required_credential",
    "resolve_credential",
]


def register_clients() -> None:
    """Register the proxy's clients as 'openai' and 'ai21' in bench's client registry (idempotent).

    After this, `bench.models.InProcessService` sends hosted models' requests straight to their providers.
    """
    from bench.models import client

    for name, factory in (("openai", openai_client), ("ai21", ai21_client)):
        client(name)(factory)  # the same factory again is accepted; a different one is refused
