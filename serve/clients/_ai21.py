"""`ai21`: AI21 Studio over httpx: the completion API (Jurassic, token logprobs) and the chat API (Jamba).

`client_args` of the deployment:

    base_url:   default https://api.ai21.com/studio/v1
    credential: the credentials.conf name of the key (default 'ai21ApiKey')
    api:        'complete' (POST {base_url}/{model}/complete) or 'chat' (POST {base_url}/chat/completions)
    model:      the name AI21 knows the model by (default: the part of the name after the slash)

Completion tokens: AI21 marks a leading space with '▁' and a newline with '<|newline|>'; a token's
`textRange` gives its true length, which trims the zero-length '▁' AI21 sometimes puts first. The logprob is
`raw_logprob` when given (before temperature), else `logprob`. The chat API returns no logprobs.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx
from pydantic import Field, SecretStr

from bench import GeneratedOutput, Request, RequestResult, Token
from bench.models import ModelDeployment
from serve.clients._provider import (
    ProviderArgs,
    ProviderClient,
    chat_messages,
    is_retriable_status,
    parse_retry_after,
)

DEFAULT_BASE_URL = "https://api.ai21.com/studio/v1"


class AI21Args(ProviderArgs):
    """The `client_args` an ai21 deployment accepts."""

    base_url: str = Field(default=DEFAULT_BASE_URL, description="AI21 Studio API root")
    credential: str = Field(default="ai21ApiKey", description="credentials.conf name of the key")
    api: Literal["complete", "chat"] = Field(default="complete", description="which endpoint to call")
    model: str | None = Field(default=None, description="AI21's name for the model")


class AI21Client(ProviderClient[AI21Args]):
    """AI21 Studio completion and chat requests."""

    provider = "ai21"
    args_model = AI21Args

    def connect(self, key: SecretStr | None) -> None:
        """An httpx client for the API root that sends the key as a bearer token."""
        assert key is not None  # AI21Args always names a credential
        self.http = httpx.Client(
            base_url=self.args.base_url.rstrip("/") + "/",
            headers={"Authorization": f"Bearer {key.get_secret_value()}"},
            timeout=self.timeout,
        )

    def provider_request(self, request: Request) -> dict[str, Any]:
        if self.args.api == "chat":
            if request.echo_prompt:
                raise self.fail("echo_prompt is not supported by AI21's chat API", retriable=False)
            return {
                "path": "chat/completions",
                "model": self.engine,
                "messages": chat_messages(request),
                "n": request.num_completions,
                "max_tokens": request.max_tokens,
                "temperature": request.temperature,
                "top_p": request.top_p,
                "stop": list(request.stop_sequences),
            }
        if request.messages is not None:
            raise self.fail("chat messages need a deployment with client_args api: chat", retriable=False)
        return {
            "path": f"{self.engine}/complete",
            "prompt": request.prompt,
            "numResults": request.num_completions,
            "maxTokens": request.max_tokens,
            "temperature": request.temperature,
            "topP": request.top_p,
            "topKReturn": request.top_k_per_token,
            "stopSequences": list(request.stop_sequences),
        }

    def send(self, request: Request, provider_request: dict[str, Any]) -> RequestResult:
        body = {k: v for k, v in provider_request.items() if k != "path"}
        try:
            response = self.http.post(provider_request["path"], json=body)
        except httpx.TimeoutException:
            raise self.fail(f"no answer within {self.timeout} s (timeout)", retriable=True, timed_out=True) from None
        except httpx.TransportError as error:
            raise self.fail(f"connection failed: {error}", retriable=True) from None
        if response.status_code >= 400:
            raise self.fail(
                f"provider answered HTTP {response.status_code}: {_provider_message(response)}",
                retriable=is_retriable_status(response.status_code),
                status=response.status_code,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        try:
            payload = response.json()
            if provider_request["path"] == "chat/completions":
                completions = tuple(_chat_choice(c) for c in payload["choices"])
            else:
                completions = _completions(payload, echo=request.echo_prompt)
        except (ValueError, KeyError, TypeError) as error:
            raise self.fail(f"unexpected response shape ({type(error).__name__}: {error})", retriable=False) from None
        return RequestResult(success=True, completions=completions)


def ai21_client(deployment: ModelDeployment) -> AI21Client:
    """The factory `register_clients` registers as 'ai21': credentials from the proxy's folder or the environment."""
    return AI21Client(deployment)


def _provider_message(response: httpx.Response) -> str:
    """AI21 errors say `{"detail": ...}`; OpenAI-style `{"error": {"message"}}` and raw text are handled too."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict):
        if "detail" in body:
            return str(body["detail"])
        inner = body.get("error")
        if isinstance(inner, dict) and "message" in inner:
            return str(inner["message"])
    return response.text[:500]


def _token(raw: dict[str, Any]) -> Token:
    generated = raw["generatedToken"]
    text = generated["token"].replace("▁", " ").replace("<|newline|>", "\n")
    text_range = raw.get("textRange")
    if text_range is not None:
        length = text_range["end"] - text_range["start"]
        text = text[-length:] if length else ""
    logprob = generated.get("raw_logprob", generated.get("logprob"))
    tops = {
        top["token"].replace("▁", " ").replace("<|newline|>", "\n"): float(top["logprob"])
        for top in raw.get("topTokens") or []
    }
    return Token(text=text, logprob=float(logprob), top_logprobs=tops)


def _completions(payload: dict[str, Any], *, echo: bool) -> tuple[GeneratedOutput, ...]:
    prompt = payload["prompt"]
    prompt_tokens = tuple(_token(t) for t in prompt.get("tokens") or []) if echo else ()
    outputs = []
    for completion in payload["completions"]:
        data = completion["data"]
        tokens = prompt_tokens + tuple(_token(t) for t in data.get("tokens") or [])
        text = (prompt["text"] if echo else "") + data["text"]
        finish = (completion.get("finishReason") or {}).get("reason")
        outputs.append(
            GeneratedOutput(text=text, logprob=sum(t.logprob for t in tokens), tokens=tokens, finish_reason=finish)
        )
    return tuple(outputs)


def _chat_choice(choice: dict[str, Any]) -> GeneratedOutput:
    return GeneratedOutput(
        text=(choice.get("message") or {}).get("content") or "",
        logprob=0.0,
        finish_reason=choice.get("finish_reason"),
    )
