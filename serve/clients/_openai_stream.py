"""An OpenAI stream (`stream=True`) put back together, choice by choice, while its text is passed on.

Each chunk's choices carry their index, new text (`text` for completions, `delta.content` for chat), the
logprobs of the new tokens and, in the last chunk of a choice, its finish reason. `StreamedChoices` sends the
text on as it arrives and rebuilds every choice in the shape of a non-streamed answer, so that one parser
reads both.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bench.models import DeltaSink


class StreamedChoices:
    """The choices of one streamed answer, gathered from its chunks."""

    def __init__(self, chat: bool) -> None:
        self.chat = chat
        self.texts: dict[int, list[str]] = defaultdict(list)
        self.logprobs: dict[int, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        self.finish: dict[int, str | None] = {}

    def add(self, chunk: dict[str, Any], sink: DeltaSink) -> None:
        """Take one chunk (a dict) and send its new text to `sink`."""
        for choice in chunk.get("choices") or []:
            index = int(choice.get("index") or 0)
            logprobs = choice.get("logprobs") or {}
            if self.chat:
                text = (choice.get("delta") or {}).get("content") or ""
                self.logprobs[index]["content"].extend(logprobs.get("content") or [])
            else:
                text = choice.get("text") or ""
                for field in ("tokens", "token_logprobs", "top_logprobs"):
                    self.logprobs[index][field].extend(logprobs.get(field) or [])
            self.texts[index].append(text)
            self.finish.setdefault(index, None)
            if choice.get("finish_reason"):
                self.finish[index] = choice["finish_reason"]
            sink.send(index, text)

    def choices(self) -> list[dict[str, Any]]:
        """Every choice, by index, as a non-streamed answer would hold it."""
        choices = []
        for index in sorted(self.finish):
            text = "".join(self.texts[index])
            logprobs = dict(self.logprobs[index]) or None
            choice: dict[str, Any] = {"index": index, "logprobs": logprobs, "finish_reason": self.finish[index]}
            if self.chat:
                choice["message"] = {"role": "assistant", "content": text}
            else:
                choice["text"] = text
            choices.append(choice)
        return choices
