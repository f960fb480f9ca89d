"""Small readers of RequestStates shared by several metrics (failure, scored tokens, prompt size).

The failure rule lives here so every metric applies the same one: a request state whose `result` is None
or unsuccessful makes its whole instance count as failed. Accuracy-type metrics then leave the instance
out (they return no Stats for it) and `basic` reports `request_failed=1`, so failures show in the stats
instead of being silently scored as wrong answers.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench._request import Request, Token
from bench.adaptation._request_state import RequestState
from bench.tokenizers._tokenizer import Tokenizer


def is_failed(state: RequestState) -> bool:
    """Whether the state has no result or an unsuccessful one."""
    return state.result is None or not state.result.success


def any_failed(states: Sequence[RequestState]) -> bool:
    """Whether any request of the group failed (the group is then left out of accuracy-type metrics)."""
    return any(is_failed(state) for state in states)


def scored_tokens(state: RequestState) -> tuple[Token, ...]:
    """The tokens an echo request scores: the first completion's tokens from `num_conditioning_tokens` on.

    Raises:
        ValueError: if the state has no successful result with a completion.
    """
    if state.result is None or not state.result.success or not state.result.completions:
        raise ValueError("scored_tokens needs a successful result with at least one completion")
    return state.result.completions[0].tokens[state.num_conditioning_tokens :]


def scored_logprob(state: RequestState) -> float:
    """Sum of the logprobs of `scored_tokens(state)`."""
    return sum(token.logprob for token in scored_tokens(state))


def prompt_text(request: Request) -> str:
    """The text the model reads: the prompt, or the chat messages' contents joined by newlines."""
    if request.messages is None:
        return request.prompt
    return "\n".join(message.content for message in request.messages)


def count_prompt_tokens(request: Request, tokenizer: Tokenizer) -> int:
    """Tokens of the request's prompt (or messages) according to `tokenizer`."""
    return tokenizer.count_tokens(prompt_text(request))
