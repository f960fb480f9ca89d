"""`RequestLimits`: every size, count and number a caller sets is bounded, and checked before any work.

One unbounded value is enough to take a node down: a `max_tokens` of 10**9 grows a replica until Ray's memory
monitor kills every worker of the node, a `top_k_per_token` of 10**6 keeps a replica busy for minutes, JSON nested
100,000 deep overflows the parser's stack. So the ingress checks, before it authenticates a request against a
quota or calls a provider:

- the body: its size (413 past `max_body_bytes`, refused from Content-Length before it is read when it is
  declared), its nesting depth, and its numbers (integers within +-`max_integer`, floats finite);
- each `Request`: completions, top-k, prompt size, stop sequences, and `max_tokens` within the model's
  `max_output_tokens` and its context window minus the prompt's tokens (counted only when the prompt's UTF-8
  length could make it not fit: a byte-level BPE token is at least one byte);
- batches, token ids to decode (each within the tokenizer's vocabulary) and texts to score.

Every refusal is a 400 (`LimitExceededError`, `InvalidRequestError`) naming the field, the value and the limit.
The limits are the `limits:` of the proxy's config (`ProxyAppConfig.limits`, configs/serve.yaml); the
defaults suit the models of configs/model_deployments.yaml and keep one request's answer to tens of megabytes
at most (the replicas' gRPC messages may be 64 MiB: serve._app.REPLICA_ENV). The limits hold per request: a
batch has at most `max_batch_requests` of them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bench import Request
from bench.models import ModelDeployment
from bench.tokenizers import Tokenizer, get_tokenizer
from serve._errors import InvalidRequestError, LimitExceededError

JSON_SAFE_INTEGER = 2**53 - 1
"""The largest integer every JSON reader keeps exactly (JavaScript's Number.MAX_SAFE_INTEGER)."""


class RequestLimits(BaseModel):
    """The bounds the proxy holds every request to (the `limits:` of the proxy's config)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        description="bytes of a request body (413 past): a batch of 256 requests with 8k-token prompts fits",
    )
    max_json_depth: int = Field(default=32, ge=4, description="nesting of arrays and objects in a body")
    max_integer: int = Field(
        default=JSON_SAFE_INTEGER, ge=1, description="largest magnitude of an integer anywhere in a body"
    )
    max_prompt_chars: int = Field(
        default=1_000_000, ge=1, description="characters of a prompt (all chat messages together)"
    )
    max_num_completions: int = Field(default=128, ge=1, description="completions of one request (`n` on /v1)")
    max_top_k_per_token: int = Field(default=20, ge=1, description="top logprobs per token (`logprobs` on /v1)")
    max_completion_tokens_total: int = Field(
        default=65_536, ge=1, description="max_tokens times num_completions: the tokens one request may generate"
    )
    max_top_logprobs_total: int = Field(
        default=131_072,
        ge=1,
        description="max_tokens times num_completions times top_k_per_token: the logprobs one answer may carry",
    )
    max_stop_sequences: int = Field(default=16, ge=0, description="stop sequences of one request")
    max_batch_requests: int = Field(default=1_000, ge=1, description="requests in one call of /api/requests")
    max_token_ids: int = Field(default=200_000, ge=1, description="token ids in one call of /api/decode")
    max_texts: int = Field(default=1_000, ge=1, description="texts in one call of /api/toxicity")


def parse_json(raw: bytes, limits: RequestLimits) -> Any:
    """The JSON value of a body, checked for depth and numbers.

    Raises:
        InvalidRequestError: not JSON (where), nested deeper than `max_json_depth`, NaN or Infinity,
            or a number out of range (naming the field).
    """
    try:
        value = json.loads(raw or b"{}", parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise InvalidRequestError(
            f"the body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise InvalidRequestError(f"the body is nested deeper than {limits.max_json_depth} levels") from None
    except (ValueError, UnicodeDecodeError) as error:  # e.g. an integer of more than 4300 digits
        raise InvalidRequestError(f"the body is not valid JSON: {str(error)[:200]}") from None
    check_json_value(value, limits)
    return value


def _refuse_constant(name: str) -> Any:
    raise InvalidRequestError(f"the body holds {name}, which is not a JSON number (numbers must be finite)")


def check_json_value(value: Any, limits: RequestLimits) -> None:
    """Walk a parsed body without recursion: depth, integer range, finite floats.

    Raises:
        InvalidRequestError: naming the path of the first offending value.
    """
    stack: list[tuple[Any, str, int]] = [(value, "", 1)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limits.max_json_depth:
                raise LimitExceededError(
                    field=path or "(body)",
                    value=f"nested {depth} levels deep",
                    limit=limits.max_json_depth,
                    rule="limits.max_json_depth: levels of arrays and objects",
                )
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            stack.extend((v, f"{path}.{k}" if path else str(k), depth + 1) for k, v in pairs)
        elif isinstance(item, bool) or item is None or isinstance(item, str):
            continue
        elif isinstance(item, int) and abs(item) > limits.max_integer:
            raise LimitExceededError(
                field=path or "(body)", value=item, limit=limits.max_integer, rule="integers must be within +-limit"
            )
        elif isinstance(item, float) and not math.isfinite(item):
            raise InvalidRequestError(f"field {path or '(body)'!r}: {item} is not a finite number", param=path)


def check_request(request: Request, deployment: ModelDeployment, limits: RequestLimits) -> None:
    """Refuse a request that asks for more than the limits or the model allow (the prompt is tokenized with the
    model's tokenizer only when its length in bytes could make it not fit).

    Raises:
        LimitExceededError: naming the field, its value, the limit and the rule.
    """
    _at_most("num_completions", request.num_completions, limits.max_num_completions, "limits.max_num_completions")
    _at_most("top_k_per_token", request.top_k_per_token, limits.max_top_k_per_token, "limits.max_top_k_per_token")
    _at_most(
        "stop_sequences", len(request.stop_sequences), limits.max_stop_sequences, "limits.max_stop_sequences (count)"
    )
    texts = [m.content for m in request.messages] if request.messages is not None else [request.prompt]
    prompt_field = "messages" if request.messages is not None else "prompt"
    chars = sum(len(t) for t in texts)
    _at_most(prompt_field, chars, limits.max_prompt_chars, "limits.max_prompt_chars (characters)")
    if deployment.max_output_tokens is not None:
        _at_most("max_tokens", request.max_tokens, deployment.max_output_tokens, "the model's max_output_tokens")
    _at_most("max_tokens", request.max_tokens, deployment.context_window, "the model's context window")
    total = request.max_tokens * request.num_completions
    if total > limits.max_completion_tokens_total:
        raise LimitExceededError(
            field="max_tokens",
            value=request.max_tokens,
            limit=limits.max_completion_tokens_total // request.num_completions,
            rule=f"max_tokens times num_completions ({request.num_completions}) must not exceed "
            f"limits.max_completion_tokens_total ({limits.max_completion_tokens_total})",
        )
    entries = total * request.top_k_per_token
    if entries > limits.max_top_logprobs_total:
        raise LimitExceededError(
            field="top_k_per_token",
            value=request.top_k_per_token,
            limit=max(1, limits.max_top_logprobs_total // max(1, total)),
            rule=f"max_tokens times num_completions ({total}) times top_k_per_token must not exceed "
            f"limits.max_top_logprobs_total ({limits.max_top_logprobs_total})",
        )
    window = deployment.context_window
    if sum(len(t.encode()) for t in texts) + request.max_tokens <= window:
        return  # fits whatever the tokenizer: a token is at least one byte
    tokenizer = get_tokenizer(deployment.tokenizer)
    prompt_tokens = sum(tokenizer.count_tokens(t) for t in texts)
    if prompt_tokens + request.max_tokens > window:
        if prompt_tokens > window:
            raise LimitExceededError(
                field=prompt_field,
                value=f"{prompt_tokens} tokens",
                limit=f"{window} tokens",
                rule="the model's context window",
            )
        raise LimitExceededError(
            field="max_tokens",
            value=request.max_tokens,
            limit=window - prompt_tokens,
            rule=f"the model's context window of {window} tokens minus the prompt's {prompt_tokens}",
        )


def check_token_ids(token_ids: Sequence[int], tokenizer: Tokenizer, limits: RequestLimits) -> None:
    """Refuse too many ids, or an id outside the tokenizer's vocabulary.

    Raises:
        LimitExceededError, InvalidRequestError: naming `request.token_ids` and the bad id.
    """
    _at_most("request.token_ids", len(token_ids), limits.max_token_ids, "limits.max_token_ids (count)")
    size = tokenizer.vocab_size
    for index, token_id in enumerate(token_ids):
        if token_id < 0 or (size is not None and token_id >= size):
            bound = f"0 to {size - 1}" if size is not None else "0 or more"
            raise InvalidRequestError(
                f"field 'request.token_ids.{index}': {token_id} is not a token id of this model's tokenizer "
                f"(ids are {bound})",
                param="request.token_ids",
            )


def check_count(field: str, count: int, limit: int, rule: str) -> None:
    """Refuse a list longer than its limit. Raises: LimitExceededError."""
    _at_most(field, count, limit, rule)


def _at_most(field: str, value: int, limit: int, rule: str) -> None:
    if value > limit:
        raise LimitExceededError(field=field, value=value, limit=limit, rule=rule)
