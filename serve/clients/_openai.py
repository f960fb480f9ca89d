"""`openai`: any OpenAI-compatible server (OpenAI, vLLM, llama.cpp server, Together) through the `openai` library.

`client_args` of the deployment:

    base_url:   the server's URL ending in /v1 (default: OpenAI's)
    credential: the credentials.conf name of its key (default 'openaiApiKey'; null for a server without keys)
    api:        'completions' (default; echo and prompt logprobs) or 'chat' (chat completions)
    model:      the name the server knows the model by (default: the part of the name after the slash)

Logprobs come back as bench `Token`s: completions give `logprobs.tokens/token_logprobs/top_logprobs`
(with `echo` the prompt's tokens come first, the very first without a logprob: 0.0), chat gives
`logprobs.content[].{token, logprob, top_logprobs}`. The library's own retries are off: `Retrier` retries.
Streamed requests (`stream_request`) ask the server for a stream (`stream=True`) and pass its text on as each
chunk arrives; the choices are rebuilt from the chunks, so the result equals a non-streamed answer's.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, SecretStr

from bench import GeneratedOutput, Request, RequestResult, Token
from bench.models import DeltaSink, ModelDeployment
from serve.clients._openai_stream import StreamedChoices
from serve.clients._provider import (
    ProviderArgs,
    ProviderClient,
    chat_messages,
    is_retriable_status,
    parse_retry_after,
)

if TYPE_CHECKING:
    import openai

_PATHS = {"completions": "/completions", "chat": "/chat/completions"}
"""The server's route of each `endpoint` of a provider request (below the base URL, as the SDK's own)."""

NO_KEY = "no-key"  # the library insists on a key; servers without auth ignore it
MAX_CHAT_TOP_LOGPROBS = 20


class OpenAIArgs(ProviderArgs):
    """The `client_args` an openai deployment accepts."""

    base_url: str | None = Field(default=None, description="server URL ending in /v1; default OpenAI's")
    credential: str | None = Field(default="openaiApiKey", description="credentials.conf name of the key")
    api: Literal["completions", "chat"] = Field(default="completions", description="which endpoint to call")
    model: str | None = Field(default=None, description="the server's name for the model")


class OpenAIClient(ProviderClient[OpenAIArgs]):
    """Completions and chat completions with logprobs against one OpenAI-compatible server."""

    provider = "openai"
    args_model = OpenAIArgs

    def connect(self, key: SecretStr | None) -> None:
        """Keep the key: the library's client is built on first use (`sdk`). A process that only checks the
        model (benchmark-run's driver before its shards run on Ray, a shard task) never imports `openai`,
        ~1 s of the command's start-up on 2 cores."""
        self._key = key

    def ready(self) -> None:
        """The library's client, built now (the proxy's replica, before its first request)."""
        self.sdk  # noqa: B018 (builds and keeps it)

    @functools.cached_property
    def sdk(self) -> openai.OpenAI:
        """The `openai` library's client for the server, its own retries off (`Retrier` retries)."""
        import openai

        return openai.OpenAI(
            api_key=self._key.get_secret_value() if self._key is not None else NO_KEY,
            base_url=self.args.base_url,
            max_retries=0,
            timeout=self.timeout,
        )

    def provider_request(self, request: Request) -> dict[str, Any]:
        common: dict[str, Any] = {
            "model": self.engine,
            "temperature": request.temperature,
            "n": request.num_completions,
            "max_tokens": request.max_tokens,
            "top_p": request.top_p,
            "presence_penalty": request.presence_penalty,
            "frequency_penalty": request.frequency_penalty,
        }
        if request.stop_sequences:
            common["stop"] = list(request.stop_sequences)
        if self.args.api == "chat":
            return {"endpoint": "chat", **common, **self._chat_fields(request)}
        if request.messages is not None:
            raise self.fail("chat messages need a deployment with client_args api: chat", retriable=False)
        return {
            "endpoint": "completions",
            **common,
            "prompt": request.prompt,
            "logprobs": request.top_k_per_token,
            "echo": request.echo_prompt,
        }

    def _chat_fields(self, request: Request) -> dict[str, Any]:
        if request.echo_prompt:
            raise self.fail("echo_prompt is not supported by the chat completions API", retriable=False)
        top = min(request.top_k_per_token, MAX_CHAT_TOP_LOGPROBS)
        return {"messages": chat_messages(request), "logprobs": True, "top_logprobs": top}

    def send(self, request: Request, provider_request: dict[str, Any]) -> RequestResult:
        import httpx
        import openai

        body = {k: v for k, v in provider_request.items() if k != "endpoint"}
        chat = provider_request["endpoint"] == "chat"
        try:
            # posted as the body `completions.create(**body)` would send (a test compares them), without its
            # conversion of every parameter through the SDK's typed dicts (~0.6 ms of CPU per request, a third
            # of the call); the raw answer's JSON is read as the dicts the SDK's models would dump to (building
            # those models took another third of the proxy's CPU per request with logprobs)
            response = self.sdk.post(_PATHS[provider_request["endpoint"]], body=body, cast_to=httpx.Response)
        except openai.APIStatusError as error:
            raise self._status_error(error) from None
        except openai.APITimeoutError:
            raise self.fail(f"no answer within {self.timeout} s (timeout)", retriable=True, timed_out=True) from None
        except openai.APIConnectionError as error:
            raise self.fail(f"connection failed: {error.__cause__ or error}", retriable=True) from None
        try:
            choices = json.loads(response.content)["choices"]
            completions = tuple((_chat_choice if chat else _completion_choice)(c) for c in choices)
        except (ValueError, LookupError, TypeError, AttributeError) as error:  # not an OpenAI-shaped answer
            said = f"{type(error).__name__}: {error}"[:200]
            raise self.fail(f"provider answered HTTP 200 with a body that is not a completion ({said})",
                            retriable=True) from None  # fmt: skip
        return RequestResult(success=True, completions=completions)

    def send_stream(self, request: Request, provider_request: dict[str, Any], sink: DeltaSink) -> RequestResult:
        """One streamed attempt: each chunk's text goes to `sink` as it arrives. A `StreamCancelled` raised by
        the sink closes the connection, which stops the provider's generation."""
        import httpx
        import openai

        chat = provider_request["endpoint"] == "chat"
        body = {k: v for k, v in provider_request.items() if k != "endpoint"}
        gathered = StreamedChoices(chat)
        try:
            create = self.sdk.chat.completions.create if chat else self.sdk.completions.create
            with create(**body, stream=True) as stream:
                for chunk in stream:
                    gathered.add(chunk.model_dump(), sink)
        except openai.APIStatusError as error:
            raise self._status_error(error) from None
        except openai.APITimeoutError:
            raise self.fail(f"no answer within {self.timeout} s (timeout)", retriable=True) from None
        except (openai.APIConnectionError, openai.APIError, httpx.HTTPError) as error:  # httpx's: a dropped stream
            raise self.fail(f"the stream failed: {error.__cause__ or error}", retriable=True) from None
        parse = _chat_choice if chat else _completion_choice
        return RequestResult(success=True, completions=tuple(parse(c) for c in gathered.choices()))

    def _status_error(self, error: openai.APIStatusError) -> Exception:
        status = error.status_code
        said = _provider_message(error)
        retry_after = parse_retry_after(error.response.headers.get("retry-after"))
        return self.fail(
            f"provider answered HTTP {status}: {said}",
            retriable=is_retriable_status(status),
            status=status,
            retry_after=retry_after,
        )


def openai_client(deployment: ModelDeployment) -> OpenAIClient:
    """The factory `register_clients` registers as 'openai': credentials from the proxy's folder or the environment."""
    return OpenAIClient(deployment)


def _provider_message(error: openai.APIStatusError) -> str:
    """The provider's own message: `error.message` of an OpenAI-shaped body, else the raw text."""
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    text = error.response.text
    return text[:500] if text else error.message


def _completion_choice(choice: dict[str, Any]) -> GeneratedOutput:
    logprobs = choice.get("logprobs") or {}
    texts = logprobs.get("tokens") or []
    values = logprobs.get("token_logprobs") or [None] * len(texts)
    tops = logprobs.get("top_logprobs") or [None] * len(texts)
    tokens = tuple(
        Token(text=t, logprob=float(lp) if lp is not None else 0.0, top_logprobs=dict(top or {}))
        for t, lp, top in zip(texts, values, tops)
    )
    return GeneratedOutput(
        text=choice.get("text") or "",
        logprob=sum(t.logprob for t in tokens),
        tokens=tokens,
        finish_reason=choice.get("finish_reason"),
    )


def _chat_choice(choice: dict[str, Any]) -> GeneratedOutput:
    content = (choice.get("logprobs") or {}).get("content") or []
    tokens = tuple(
        Token(
            text=item["token"],
            logprob=float(item["logprob"]),
            top_logprobs={top["token"]: float(top["logprob"]) for top in item.get("top_logprobs") or []},
        )
        for item in content
    )
    message = choice.get("message") or {}
    return GeneratedOutput(
        text=message.get("content") or "",
        logprob=sum(t.logprob for t in tokens),
        tokens=tokens,
        finish_reason=choice.get("finish_reason"),
    )
