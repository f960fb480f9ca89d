"""Streaming's building blocks: what may be sent of a growing text, completing a stream from its result,
and the default stream of a client that answers whole (the simple model)."""

from __future__ import annotations

import pytest

from bench import Request
from bench.models import DeltaSink, StreamedText, TextDelta, get_deployment
from bench.models._simple import SimpleClient


def grow(stops: tuple[str, ...], steps: list[str]) -> list[str]:
    """The deltas a text growing through `steps` (each the whole text so far) would send."""
    text = StreamedText(stops)
    return [text.advance(step) for step in steps]


def test_text_is_sent_as_it_grows() -> None:
    assert grow((), [" Paris", " Paris is", " Paris is the"]) == [" Paris", " is", " the"]


def test_a_possible_start_of_a_stop_sequence_is_held_until_decided() -> None:
    # "\n" may begin the stop "\n\n": held; the next token shows it does not, and it goes out with it
    assert grow(("\n\n",), ["a", "a\n", "a\nb", "a\nb\n", "a\nb\n\nc"]) == ["a", "", "\nb", "", ""]


def test_nothing_from_a_stop_sequence_on_is_sent() -> None:
    assert grow(("END",), ["x E", "x EN", "x END and more"]) == ["x ", "", ""]


def test_half_a_character_is_held() -> None:
    assert grow((), ["caf", "caf\ufffd", "café"]) == ["caf", "", "é"]


def test_sink_completes_each_completion_from_the_result() -> None:
    sent: list[TextDelta] = []
    sink = DeltaSink(sent.append)
    sink.send(0, " Pa")
    sink.send(1, "")  # empty deltas are not sent
    result = SimpleClient(get_deployment("simple/model1")).make_request(
        Request(model="simple/model1", prompt="x Paris", max_tokens=1, num_completions=2, temperature=0)
    )
    sink.finish(result)
    assert [(d.index, d.text) for d in sent] == [(0, " Pa"), (0, "ris"), (1, " Paris")]


@pytest.mark.parametrize("stop", [(), ("\n",)])
def test_simple_model_streams_its_tokens(stop: tuple[str, ...]) -> None:
    client = SimpleClient(get_deployment("simple/model1"))
    request = Request(
        model="simple/model1", prompt="the cat sat", max_tokens=4, num_completions=2, temperature=1, stop_sequences=stop
    )
    sent: list[TextDelta] = []
    result = client.stream_request(request, sent.append)
    assert result == client.make_request(request).model_copy(update={"request_time": result.request_time})
    for index, output in enumerate(result.completions):
        pieces = [d.text for d in sent if d.index == index]
        assert pieces == [t.text for t in output.tokens] or pieces == [output.text]
        assert "".join(pieces) == output.text
