"""language_modeling: scored tokens per window, perplexity and bits per byte from merged sums."""

from __future__ import annotations

import math

import pytest

from bench import Stat, merge_stats
from bench.adaptation import RequestState
from bench.metrics import create_metric
from tests.bench.metrics.builders import FAILED, context, echo_state, instance

CTX = context("language_modeling")


def two_windows(id_: str = "doc") -> list[RequestState]:
    inst = instance([], correct=[], id_=id_)
    return [
        # window 1: nothing conditions; "Hello" (5 bytes, -1.0), " world" (6 bytes, -2.0)
        echo_state(inst, [-1.0, -2.0], 0, texts=["Hello", " world"]),
        # window 2: " world" only conditions (its -0.1 is not scored); " héllo" is 7 UTF-8 bytes, -1.5
        echo_state(inst, [-0.1, -1.5], 1, texts=[" world", " héllo"]),
    ]


def by_name(stats: list[Stat]) -> dict[str, float]:
    return {s.name.name: s.sum for s in stats}


def test_per_instance_sums_and_derived_figures() -> None:
    metric = create_metric("language_modeling", {})
    stats = metric.evaluate_instance(two_windows(), CTX)
    # logprob = -1 - 2 - 1.5 = -4.5; 3 tokens; 5 + 6 + 7 = 18 bytes
    assert by_name(stats) == pytest.approx({"logprob": -4.5, "num_tokens": 3, "num_bytes": 18})
    derived = by_name(metric.derive({s.name.name: s for s in stats}, CTX))
    # perplexity = exp(4.5 / 3) = exp(1.5) = 4.481689
    # bits_per_byte = 4.5 / (18 * ln 2) = 4.5 / 12.476649 = 0.360674
    # logprob_per_byte = -4.5 / 18 = -0.25
    assert derived == pytest.approx({"perplexity": 4.481689, "bits_per_byte": 0.360674, "logprob_per_byte": -0.25})


def test_failed_window_leaves_the_instance_out() -> None:
    windows = two_windows()
    windows[1] = windows[1].model_copy(update={"result": FAILED})
    assert create_metric("language_modeling", {}).evaluate_instance(windows, CTX) == []


def test_merging_two_groups_gives_the_same_perplexity_as_all_at_once() -> None:
    metric = create_metric("language_modeling", {})
    other = instance([], correct=[], id_="other")
    per_instance = [
        metric.evaluate_instance(two_windows("a"), CTX),
        metric.evaluate_instance([echo_state(other, [-0.5, -0.7, -0.3], 1, texts=["x", " yy", " zzz"])], CTX),
        metric.evaluate_instance(two_windows("b"), CTX),
    ]
    everything = merge_stats({}, [s for stats in per_instance for s in stats])
    group_1 = merge_stats({}, per_instance[0])
    group_2 = merge_stats({}, [s for stats in per_instance[1:] for s in stats])
    combined = merge_stats(group_1, list(group_2.values()))
    once = by_name(metric.derive({k.name: v for k, v in everything.items()}, CTX))
    merged = by_name(metric.derive({k.name: v for k, v in combined.items()}, CTX))
    assert merged == pytest.approx(once)
    # all: logprob -4.5 - 1.0 - 4.5 = -10, tokens 3 + 2 + 3 = 8 -> perplexity exp(10 / 8)
    assert once["perplexity"] == pytest.approx(math.exp(1.25))


def test_derive_without_stats_is_empty() -> None:
    assert create_metric("language_modeling", {}).derive({}, CTX) == []


def helm_num_bytes(texts: list[str]) -> int:
    """HELM 0.5.16 basic_metrics.get_num_bytes, re-implemented from its source."""
    num_bytes = 0
    for text in texts:
        if text.startswith("bytes:"):
            num_bytes += text.count("\\x")
        else:
            num_bytes += len(bytes(text, encoding="utf-8"))
    return num_bytes


def test_partial_character_tokens_count_their_real_bytes() -> None:
    # "’" is two r50k tokens, named as OpenAI names them: b"\xe2\x80" then b"\x99": 3 bytes, not 14 + 10.
    texts = ["bytes:\\xe2\\x80", "bytes:\\x99", "Hello", " world", " é"]
    inst = instance([], correct=[], id_="doc")
    stats = by_name(
        create_metric("language_modeling", {}).evaluate_instance([echo_state(inst, [-1.0] * 5, 0, texts=texts)], CTX)
    )
    assert stats["num_bytes"] == helm_num_bytes(texts) == 2 + 1 + 5 + 6 + 3


def test_the_simple_model_names_partial_tokens_so_their_bytes_add_up() -> None:
    # Through the real client and tokenizer: the scored tokens' bytes are the document's UTF-8 bytes.
    from bench.adaptation import AdapterSpec, create_adapter
    from bench.models import get_deployment
    from bench.models._simple import SimpleClient
    from bench.tokenizers import get_tokenizer

    document = "It’s 🎉 — naïve."
    tokenizer = get_tokenizer("openai/r50k_base")
    client = SimpleClient(get_deployment("simple/model1"))
    inst = instance([], correct=[], id_="doc").model_copy(update={"input": document})
    for context_window in (6, 100):  # several windows, then one
        states = create_adapter(AdapterSpec(method="language_modeling"), tokenizer, context_window).adapt([inst])
        states = [s.model_copy(update={"result": client.make_request(s.request)}) for s in states]
        stats = by_name(create_metric("language_modeling", {}).evaluate_instance(states, CTX))
        assert stats["num_bytes"] == len(document.encode("utf-8"))  # 22, where U+FFFD texts would count more
    # One window: every document token is scored, the first one too (after the prefix token).
    assert stats["num_tokens"] == len(tokenizer.encode(document))
