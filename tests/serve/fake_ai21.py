"""A fake AI21 Studio server on 127.0.0.1: `/studio/v1/{model}/complete` and `/studio/v1/chat/completions`.

Completion JSON as AI21 sends it: `{"id", "prompt": {"text", "tokens"}, "completions": [{"data": {"text",
"tokens"}, "finishReason": {"reason", "length"}}]}`, each token `{"generatedToken": {"token", "logprob",
"raw_logprob"}, "topTokens": [{"token", "logprob"}] | null, "textRange": {"start", "end"}}` with '▁' for a
space. The prompt "Hello world" comes back as a zero-length '▁' (which AI21 sometimes adds), '▁Hello' and
'▁world'; the completion is '▁Paris' then '<|newline|>' (raw_logprob -0.5 and -1.0). Errors are `{"detail": ...}`.
"""

from __future__ import annotations

from typing import Any

from tests.serve.fake_openai import FakeServer


def _token(text: str, start: int, end: int, raw: float, top_k: int) -> dict[str, Any]:
    tops = [{"token": text, "logprob": raw}, *({"token": f"▁alt{j}", "logprob": raw - j} for j in range(1, top_k))]
    return {
        "generatedToken": {"token": text, "logprob": raw / 2, "raw_logprob": raw},
        "topTokens": tops if top_k > 1 else None,
        "textRange": {"start": start, "end": end},
    }


def _complete(body: dict[str, Any]) -> dict[str, Any]:
    k = body.get("topKReturn", 0)
    prompt = body["prompt"]
    prompt_tokens = [_token("▁", 0, 0, 0.0, k)]
    position = 0
    for word in prompt.split(" "):
        start = position - 1 if position else 0
        prompt_tokens.append(_token(f"▁{word}", start, position + len(word), -2.0, k))
        position += len(word) + 1
    completion = [_token("▁Paris", 0, 6, -0.5, k), _token("<|newline|>", 6, 7, -1.0, k)][: body["maxTokens"]]
    text = " Paris\n"[: sum(t["textRange"]["end"] - t["textRange"]["start"] for t in completion)]
    return {
        "id": "fake-ai21",
        "prompt": {"text": prompt, "tokens": prompt_tokens},
        "completions": [
            {
                "data": {"text": text, "tokens": completion},
                "finishReason": {"reason": "length", "length": len(completion)},
            }
            for _ in range(body.get("numResults", 1))
        ],
    }


def _chat(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chat-fake",
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": f"answer {i}"}, "finish_reason": "stop"}
            for i in range(body.get("n", 1))
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }


class FakeAI21(FakeServer):
    """The fake AI21 server; `base_url` ends in /studio/v1."""

    def __init__(self, api_key: str | None = None, model: str = "j2-ultra") -> None:
        super().__init__(
            {f"/studio/v1/{model}/complete": _complete, "/studio/v1/chat/completions": _chat}, api_key=api_key
        )

    @property
    def base_url(self) -> str:
        return f"{self.root}/studio/v1"

    def auth_error(self, authorization: str | None) -> dict[str, Any] | None:
        if self.api_key is None or authorization == f"Bearer {self.api_key}":
            return None
        return {"detail": "Forbidden"}
