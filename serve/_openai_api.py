"""OpenAI's request and response shapes for /v1/completions and /v1/chat/completions, and their streams.

Bodies are checked by pydantic (a bad field: 400 naming it); parameters the proxy has no use for
(`user`, `logit_bias`, ...) are accepted and ignored, as OpenAI-compatible servers usually do. `seed`
becomes the request's `random`, so a different seed asks for a different sample.

Streams (`stream: true`) are server-sent events in OpenAI's format, made from the proxy's own stream of
`TextDelta`s and `Answer`s: a chunk per delta as the provider produces it (the local model: after each
token), each choice's finish reason once its answer is complete, then, with
`stream_options: {"include_usage": true}`, a last chunk with `choices: []` and the usage (every other chunk
then carries `"usage": null`, as OpenAI's do), and `data: [DONE]`. Streamed chunks carry no logprobs.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import AsyncGenerator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bench import ChatMessage, GeneratedOutput, Request
from bench.models import TextDelta
from bench.tokenizers import token_raw_bytes
from serve._provider_service import Answer, StreamItem


def _envelope(kind: str, object_name: str, model: str) -> dict[str, Any]:
    """The fields that open every OpenAI answer and stream chunk: a fresh id (`<kind>-<hex>`), the object type,
    the creation time in seconds and the model."""
    return {"id": f"{kind}-{uuid.uuid4().hex}", "object": object_name, "created": int(time.time()), "model": model}


class StreamOptions(BaseModel):
    """OpenAI's `stream_options`."""

    model_config = ConfigDict(extra="ignore")

    include_usage: bool = Field(default=False, description="end the stream with a chunk holding the usage")


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
    stream_options: StreamOptions | None = None

    def _stream_base(self, kind: str, object_name: str) -> dict[str, Any]:
        """The fields every chunk of this request's stream shares."""
        base = _envelope(kind, object_name, self.model)
        if self.stream_options is not None and self.stream_options.include_usage:
            base["usage"] = None
        return base

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


class TextPart(BaseModel):
    """One part of a message's content given as a list (`[{"type": "text", "text": ...}]`): text only, since
    no model here reads images, audio or files."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["text"]
    text: str


class ChatMessageBody(BaseModel):
    """One chat message: its content as a string or as a list of text parts (joined by newlines, as
    OpenAI-compatible servers such as vLLM join them)."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "user", "assistant", "developer"]
    content: str | list[TextPart]

    @field_validator("content", mode="before")
    @classmethod
    def _text_parts_only(cls, value: Any) -> Any:
        """One clear error for a part that is not text (instead of one per branch of the union)."""
        if isinstance(value, list):
            for number, part in enumerate(value):
                kind = part.get("type") if isinstance(part, dict) else type(part).__name__
                if kind != "text":
                    raise ValueError(f"part {number} has type {kind!r}: only text parts are supported")
        return value

    def text(self) -> str:
        """The content as one string."""
        return self.content if isinstance(self.content, str) else "\n".join(p.text for p in self.content)


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
            ChatMessage(role="system" if m.role == "developer" else m.role, content=m.text()) for m in self.messages
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
    return {**_envelope("cmpl", "text_completion", body.model), "choices": choices, "usage": _usage(answers)}


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
    return {**_envelope("chatcmpl", "chat.completion", body.model), "choices": choices, "usage": _usage([answer])}


def _sse(payload: dict[str, Any] | str) -> str:
    return f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n"


def _usage_chunk(base: dict[str, Any], answers: list[Answer]) -> list[str]:
    """The last chunk when the usage was asked for (`usage` is in the base only then)."""
    return [_sse({**base, "choices": [], "usage": _usage(answers)})] if "usage" in base else []


async def completion_stream(
    body: CompletionBody, streams: Sequence[AsyncGenerator[StreamItem, None]]
) -> AsyncGenerator[str, None]:
    """Server-sent events of a completion: the prompts' streams one after the other (choice index: the
    prompt's position times n, plus the completion's), a last chunk per choice with its finish reason."""
    base = body._stream_base("cmpl", "text_completion")
    answers: list[Answer] = []
    for number, stream in enumerate(streams):
        offset = number * body.n
        async with contextlib.aclosing(stream):  # closing this stream closes the provider's
            async for item in stream:
                if isinstance(item, TextDelta):
                    choice = {"index": offset + item.index, "text": item.text, "logprobs": None, "finish_reason": None}
                    yield _sse({**base, "choices": [choice]})
                    continue
                answers.append(item)
                for index, output in enumerate(item.result.completions):
                    finish = {"index": offset + index, "text": "", "logprobs": None, "finish_reason": _finish(output)}
                    yield _sse({**base, "choices": [finish]})
    for event in _usage_chunk(base, answers):
        yield event
    yield _sse("[DONE]")


async def chat_stream(body: ChatBody, stream: AsyncGenerator[StreamItem, None]) -> AsyncGenerator[str, None]:
    """Server-sent events of a chat completion: per choice the role (with its first text), content pieces,
    then the finish reason."""
    base = body._stream_base("chatcmpl", "chat.completion.chunk")
    started: set[int] = set()
    answers: list[Answer] = []

    def chunk(index: int, delta: dict[str, Any], finish: str | None = None) -> str:
        return _sse({**base, "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}]})

    def role(index: int) -> list[str]:
        if index in started:
            return []
        started.add(index)
        return [chunk(index, {"role": "assistant", "content": ""})]

    async with contextlib.aclosing(stream):  # closing this stream closes the provider's
        async for item in stream:
            if isinstance(item, TextDelta):
                for event in role(item.index):
                    yield event
                yield chunk(item.index, {"content": item.text})
                continue
            answers.append(item)
            for index, output in enumerate(item.result.completions):
                for event in role(index):
                    yield event
                yield chunk(index, {}, _finish(output))
    for event in _usage_chunk(base, answers):
        yield event
    yield _sse("[DONE]")
