"""What is sent to a model (`Request`) and what comes back (`RequestResult`).

Both mirror the original proxy's data model so that results stay readable to HELM users, and both are
frozen: a request is a specification, a result is a record.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ChatMessage(BaseModel):
    """One message of a chat conversation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class Request(BaseModel):
    """A request to a language model, identical in meaning whatever provider serves it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(description="model name as in configs/model_deployments.yaml, e.g. 'simple/model1'")
    prompt: str = Field(default="", description="the prompt (ignored when messages are given)")
    messages: tuple[ChatMessage, ...] | None = Field(default=None, description="chat messages, if any")
    temperature: float = Field(default=1.0, ge=0.0, description="sampling temperature; 0 is greedy")
    num_completions: int = Field(default=1, ge=1, description="number of completions to return")
    top_k_per_token: int = Field(default=1, ge=1, description="top logprobs to return per token")
    max_tokens: int = Field(default=100, ge=0, description="maximum completion tokens")
    stop_sequences: tuple[str, ...] = Field(default=(), description="generation stops before any of these")
    echo_prompt: bool = Field(default=False, description="return the prompt's tokens (with logprobs) too")
    top_p: float = Field(default=1.0, gt=0.0, le=1.0, description="nucleus sampling mass")
    presence_penalty: float = Field(default=0.0, description="OpenAI-style presence penalty")
    frequency_penalty: float = Field(default=0.0, description="OpenAI-style frequency penalty")
    random: str | None = Field(default=None, description="salt: same request + same salt = same result")

    @property
    def model_provider(self) -> str:
        """The part of the model name before the slash (the provider)."""
        return self.model.split("/", 1)[0]

    @property
    def model_engine(self) -> str:
        """The part of the model name after the slash."""
        return self.model.split("/", 1)[-1]


class Token(BaseModel):
    """One token of a completion (or of the echoed prompt)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    logprob: float = Field(description="natural-log probability of this token given what precedes it")
    top_logprobs: dict[str, float] = Field(
        default_factory=dict, description="the top-k alternatives at this position and their logprobs"
    )


class GeneratedOutput(BaseModel):
    """One completion: its text, its tokens and their summed logprob."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    logprob: float = Field(description="sum of the tokens' logprobs")
    tokens: tuple[Token, ...] = ()
    finish_reason: str | None = Field(default=None, description="'length', 'stop' or 'endoftext'")


class RequestResult(BaseModel):
    """The outcome of a Request: completions on success, an error (and whether to retry) otherwise."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    success: bool
    completions: tuple[GeneratedOutput, ...] = ()
    cached: bool = Field(default=False, description="served from the cache, not the model")
    request_time: float | None = Field(default=None, description="seconds the model took (original time)")
    request_datetime: int | None = Field(default=None, description="unix time the model answered")
    error: str | None = None
    error_kind: Literal["retriable", "fatal"] | None = Field(
        default=None, description="retriable: try again later (rate limit, timeout); fatal: do not"
    )

    @classmethod
    def failure(cls, error: str, *, retriable: bool) -> RequestResult:
        """An unsuccessful result carrying a user-readable error."""
        return cls(success=False, error=error, error_kind="retriable" if retriable else "fatal")
