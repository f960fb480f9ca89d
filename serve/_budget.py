"""The most tokens a request can cost: what quotas reserve and the tokens-per-minute limit takes before a call.

A request's cost is known only when it is answered, but the proxy must decide before it: an account's
quota is held for the request's maximum (`max_cost`: its prompt tokens plus `max_tokens` for each of its
completions), and settled with the real usage afterwards. The prompt is counted with the model's tokenizer,
as the usage that settles it is.
"""

from __future__ import annotations

from bench import Request
from bench.models import ModelDeployment
from bench.tokenizers import get_tokenizer


def prompt_tokens(request: Request, deployment: ModelDeployment) -> int:
    """Tokens of the request's prompt (or of its messages' contents) by the model's tokenizer."""
    tokenizer = get_tokenizer(deployment.tokenizer)
    if request.messages is not None:
        return sum(tokenizer.count_tokens(m.content) for m in request.messages)
    return tokenizer.count_tokens(request.prompt)


def max_cost(request: Request, deployment: ModelDeployment) -> int:
    """The most tokens the request can be charged: its prompt plus `max_tokens` for every completion (with
    `echo_prompt`, every completion carries the prompt too, and is charged for it)."""
    prompt = prompt_tokens(request, deployment)
    if request.echo_prompt:
        return (prompt + request.max_tokens) * request.num_completions
    return prompt + request.max_tokens * request.num_completions
