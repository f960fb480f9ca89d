"""OpenAI's request and response shapes for /v1/completions and /v1/chat/completions, and their streams.

Bodies are checked by pydantic (a bad field: 422 naming it); parameters the proxy has no use for
(`user`, `logit_bias`, ...) are accepted and ignored, as OpenAI-compatible servers usually do. `seed`
becomes the request's `random`, so a different seed asks for a different sample. Streams are cut from
the finished result (one chunk per token, or the whole text when there are no tokens): the providers
answer whole completions, so the first chunk comes when the completion is done.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bench import ChatMessage, GeneratedOutput, Request
from bench.tokenizers import token_raw_bytes
from serve._provider_service import Answer


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    n: int = Field(default=1, ge=1, le=128)
    stop: str | list[str] | None = None
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    seed: int | None = None
    stream: bool = False

    def _common(self) -> dict[str, Any]:
        stops = [self.stop] if isinstance(self.stop, str) else list(self.stop or [])
        return {
            "model": self.model,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "num_completions": self.n,
            "stop_sequences": tuple(stops),
            "presence_penalty": self.presence_penalty,
            "frequency_penalty": self.frequency_penalty,
            "random": None if self.seed is None else str(self.seed),
        }


class CompletionBody(_Body):
    """A /v1/completions request."""

    prompt: str | list[str] = ""
    max_tokens: int = Field(default=16, ge=0)
    logprobs: int | None = Field(default=None, ge=0, le=20)
    echo: bool = False

    def requests(self) -> list[Request]:
        """One `Request` per prompt."""
        prompts = [self.prompt] if isinstance(self.prompt, str) else self.prompt
        return [
            Request(
                prompt=prompt,
                max_tokens=self.max_tokens,
                top_k_per_token=max(1, self.logprobs or 1),
                echo_prompt=self.echo,
                **self._common(),
            )
            for prompt in prompts
        ]


class ChatMessageBody(BaseModel):
    """One chat message (text content only)."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant", "developer"]
    content: str


class ChatBody(_Body):
    """A /v1/chat/completions request."""

    messages: list[ChatMessageBody] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=0)
    max_completion_tokens: int | None = Field(default=None, ge=0)
    logprobs: bool = False
    top_logprobs: int | None = Field(default=None, ge=0, le=20)

    def request(self) -> Request:
        """The `Request` (developer messages count as system messages)."""
        messages = tuple(
            ChatMessage(role="system" if m.role == "developer" else m.role, content=m.content) for m in self.messages
        )
        limit = self.max_completion_tokens if self.max_completion_tokens is not None else self.max_tokens
        return Request(
            messages=messages,
            max_tokens=100 if limit is None else limit,
            top_k_per_token=max(1, self.top_logprobs or 1),
            **self._common(),
        )


def _finish(output: GeneratedOutput) -> str:
    return "length" if output.finish_reason == "length" else "stop"


def _usage(answers: list[Answer]) -> dict[str, int]:
    prompt = sum(a.prompt_tokens for a in answers)
    completion = sum(a.completion_tokens for a in answers)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _completion_logprobs(output: GeneratedOutput) -> dict[str, Any]:
    # Character offsets; a `bytes:\\xNN` token (part of a character) starts where its character starts.
    offsets, spelled = [], b""
    for token in output.tokens:
        offsets.append(len(spelled.decode("utf-8", errors="ignore")))
        spelled += token_raw_bytes(token.text)
    return {
        "tokens": [t.text for t in output.tokens],
        "token_logprobs": [t.logprob for t in output.tokens],
        "top_logprobs": [dict(t.top_logprobs) for t in output.tokens],
        "text_offset": offsets,
    }


def completion_response(body: CompletionBody, answers: list[Answer]) -> dict[str, Any]:
    """The /v1/completions answer: n choices per prompt, indexed prompt by prompt."""
    choices: list[dict[str, Any]] = []
    for answer in answers:
        for output in answer.result.completions:
            choices.append(
                {
                    "index": len(choices),
                    "text": output.text,
                    "logprobs": _completion_logprobs(output) if body.logprobs is not None else None,
                    "finish_reason": _finish(output),
                }
            )
    return {
        "id": f"cmpl-{uuid.uuid4().hex}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": body.model,
        "choices": choices,
        "usage": _usage(answers),
    }


def _chat_logprobs(output: GeneratedOutput, top: int) -> dict[str, Any]:
    return {
        "content": [
            {
                "token": t.text,
                "logprob": t.logprob,
                "bytes": list(token_raw_bytes(t.text)),
                "top_logprobs": [
                    {"token": k, "logprob": v, "bytes": list(k.encode())} for k, v in list(t.top_logprobs.items())[:top]
                ],
            }
            for t in output.tokens
        ]
    }


def chat_response(body: ChatBody, answer: Answer) -> dict[str, Any]:
    """The /v1/chat/completions answer."""
    choices = [
        {
            "index": i,
            "message": {"role": "assistant", "content": output.text},
            "logprobs": _chat_logprobs(output, body.top_logprobs or 0) if body.logprobs else None,
            "finish_reason": _finish(output),
        }
        for i, output in enumerate(answer.result.completions)
    ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.model,
        "choices": choices,
        "usage": _usage([answer]),
    }


def _pieces(output: GeneratedOutput) -> list[str]:
    """The text in stream-sized pieces: the tokens' texts when they spell the text, else the whole text."""
    texts = [t.text for t in output.tokens]
    return texts if "".join(texts) == output.text and texts else [output.text]


def _sse(payload: dict[str, Any] | str) -> str:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n"


def completion_stream(body: CompletionBody, answers: list[Answer]) -> Iterator[str]:
    """Server-sent events of a completion: text pieces per choice, a last chunk with its finish reason."""
    base = {"id": f"cmpl-{uuid.uuid4().hex}", "object": "text_completion", "created": int(time.time())}
    base["model"] = body.model
    outputs = [o for a in answers for o in a.result.completions]
    for index, output in enumerate(outputs):
        for piece in _pieces(output):
            choice = {"index": index, "text": piece, "logprobs": None, "finish_reason": None}
            yield _sse({**base, "choices": [choice]})
        yield _sse(
            {**base, "choices": [{"index": index, "text": "", "logprobs": None, "finish_reason": _finish(output)}]}
        )
    yield _sse("[DONE]")


def chat_stream(body: ChatBody, answer: Answer) -> Iterator[str]:
    """Server-sent events of a chat completion: the role, content pieces, then the finish reason."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex}", "object": "chat.completion.chunk", "created": int(time.time())}
    base["model"] = body.model
    for index, output in enumerate(answer.result.completions):
        first = {"index": index, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
        yield _sse({**base, "choices": [first]})
        for piece in _pieces(output):
            yield _sse({**base, "choices": [{"index": index, "delta": {"content": piece}, "finish_reason": None}]})
        yield _sse({**base, "choices": [{"index": index, "delta": {}, "finish_reason": _finish(output)}]})
    yield _sse("[DONE]")
