"""Streaming a completion while it is generated: text deltas per completion, then the whole result.

`ModelClient.stream_request(request, on_delta)` calls `on_delta(TextDelta)` each time a completion's text
grows, and returns the same `RequestResult` that `make_request` would. Concatenating the deltas of
completion i gives exactly `result.completions[i].text`: `DeltaSink` sends, at the end, whatever the
finished text adds to what was sent (a client that cannot stream sends everything then).

A consumer that goes away makes `on_delta` raise `StreamCancelled`; the client lets it propagate (it is not
the model's failure, and its partial work is no result), which stops the generation at the next token.

Text that might still turn out to be the start of a stop sequence, or half of a character split over two
tokens, is held back by `StreamedText` until the next tokens decide it: no delta is ever taken back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence

from pydantic import BaseModel, ConfigDict, Field

from bench._errors import MercuryError
from bench._request import GeneratedOutput, RequestResult
from bench.models._stops import first_stop_index

logger = logging.getLogger(__name__)

REPLACEMENT = "\ufffd"  # what a tokenizer decodes half of a multi-byte character to


class TextDelta(BaseModel):
    """New text of one completion."""

    model_config = ConfigDict(frozen=True)

    index: int = Field(ge=0, description="which completion of the request (0 .. num_completions - 1)")
    text: str = Field(description="the text that follows what was sent before for this completion")


DeltaCallback = Callable[[TextDelta], None]
"""Receives each delta as it is produced; raises `StreamCancelled` when nobody wants more."""


class StreamCancelled(MercuryError):
    """The consumer of a stream went away: the generation stops and produces no result."""

    def __init__(self, reason: str = "the client stopped reading the stream") -> None:
        self.reason = reason
        super().__init__(reason)


class StreamedText:
    """The part of one growing completion text that is safe to send: never past a stop sequence, never a
    suffix that could begin one, never a trailing half character."""

    def __init__(self, stop_sequences: Sequence[str]) -> None:
        self.stop_sequences = [s for s in stop_sequences if s]
        self.sent = 0  # characters of the text sent so far

    def advance(self, text: str) -> str:
        """The new text that may be sent now, given the completion's whole text so far."""
        stop = first_stop_index(text, self.stop_sequences)
        end = stop if stop is not None else len(text) - self._held(text)
        if end <= self.sent:
            return ""
        delta = text[self.sent : end]
        self.sent = end
        return delta

    def _held(self, text: str) -> int:
        """Characters at the end of `text` to keep back: a proper prefix of a stop sequence, or half a character."""
        held = len(text) - len(text.rstrip(REPLACEMENT))
        for stop in self.stop_sequences:
            for size in range(min(len(stop) - 1, len(text)), 0, -1):
                if text.endswith(stop[:size]):
                    held = max(held, size)
                    break
        return held


class DeltaSink:
    """Sends deltas and remembers what each completion has been sent, so that `finish` can complete it."""

    def __init__(self, on_delta: DeltaCallback) -> None:
        self.on_delta = on_delta
        self.sent: dict[int, str] = {}

    def send(self, index: int, text: str) -> None:
        """Send `text` as completion `index`'s next delta (nothing when it is empty)."""
        if not text:
            return
        self.sent[index] = self.sent.get(index, "") + text
        self.on_delta(TextDelta(index=index, text=text))

    def finish(self, result: RequestResult) -> RequestResult:
        """Send what each finished completion adds to what it was sent; returns `result`."""
        for index, output in enumerate(result.completions):
            sent = self.sent.get(index, "")
            if output.text.startswith(sent):
                self.send(index, output.text[len(sent) :])
            else:  # a tokenizer whose prefixes decode differently: the stream cannot take text back
                logger.warning("completion %d: streamed text is not a prefix of the finished text", index)
        return result


def pieces(output: GeneratedOutput) -> list[str]:
    """A finished completion's text in stream-sized pieces: its tokens' texts when they spell the text,
    else the whole text at once."""
    texts = [t.text for t in output.tokens]
    return texts if texts and "".join(texts) == output.text else [output.text] if output.text else []


def completion_deltas(result: RequestResult) -> Iterator[TextDelta]:
    """The deltas of a finished result, token by token (a cached answer, or a client that cannot stream)."""
    for index, output in enumerate(result.completions):
        for piece in pieces(output):
            yield TextDelta(index=index, text=piece)


def stream_finished(result: RequestResult, on_delta: DeltaCallback) -> RequestResult:
    """Send a finished result's deltas to `on_delta`; returns `result`."""
    for delta in completion_deltas(result):
        on_delta(delta)
    return result
