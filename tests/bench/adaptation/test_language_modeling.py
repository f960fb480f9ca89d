"""The language_modeling adapter: echo requests over sliding windows of each document."""

from __future__ import annotations

import pytest

from bench.adaptation import AdaptationError, AdapterSpec, create_adapter
from bench.models import get_deployment
from bench.models._simple import SimpleClient
from bench.tokenizers import Tokenizer, get_tokenizer
from tests.bench.adaptation._helpers import ByteTokenizer, instance, make_adapter
from tests.fakes import WordTokenizer

DOCUMENT = " ".join(f"w{i}" for i in range(10))  # 10 word tokens


def test_windows_cover_every_token_once_as_scored() -> None:
    # context 5 -> windows of 4 tokens, stride 2: tokens 0-3, then 4-5 | 6-7 | 8-9 each after 2 conditioning
    states = make_adapter(5, method="language_modeling").adapt([instance(DOCUMENT)])
    assert [s.request.prompt for s in states] == ["w0 w1 w2 w3", " w2 w3 w4 w5", " w4 w5 w6 w7", " w6 w7 w8 w9"]
    assert [s.num_conditioning_tokens for s in states] == [0, 2, 2, 2]
    tokenizer = WordTokenizer()
    scored = "".join(tokenizer.decode(tokenizer.encode(s.request.prompt)[s.num_conditioning_tokens :]) for s in states)
    assert scored == DOCUMENT
    assert all(tokenizer.count_tokens(s.request.prompt) <= 5 - 1 for s in states)


def test_requests_echo_and_generate_nothing() -> None:
    adapter = make_adapter(model="m/x", random="r", method="language_modeling", max_tokens=100, temperature=1.0)
    (state,) = adapter.adapt([instance(DOCUMENT)])
    request = state.request
    assert (request.model, request.echo_prompt, request.max_tokens, request.temperature) == ("m/x", True, 0, 0.0)
    assert (request.num_completions, request.random, request.prompt) == (1, "r", DOCUMENT)
    assert (state.num_conditioning_tokens, state.num_train_instances, state.prompt_truncated) == (0, 0, False)


def test_train_instances_and_trials_are_ignored_and_empty_documents_skipped() -> None:
    adapter = make_adapter(method="language_modeling", num_train_trials=3)
    states = adapter.adapt([instance("train text", split="train"), instance("a b"), instance(""), instance("c")])
    assert [s.request.prompt for s in states] == ["a b", "c"]
    assert {s.train_trial_index for s in states} == {0}


def test_a_context_window_of_one_token_is_refused() -> None:
    with pytest.raises(AdaptationError, match="context window of 1 tokens is too small"):
        make_adapter(1, method="language_modeling")
    # two tokens: windows of one token, stride one: every token its own request
    states = make_adapter(2, method="language_modeling").adapt([instance("a b c")])
    assert [(s.request.prompt, s.num_conditioning_tokens) for s in states] == [("a", 0), (" b", 0), (" c", 0)]


def test_windows_are_not_cut_inside_a_character() -> None:
    # "aébc" is bytes 97 195 169 98 99; context 4 -> windows of 3, stride 1; a cut between 195 and 169 would
    # split "é", so the second window starts at byte 1 (before "é") and the third at byte 3 instead of 2
    adapter = create_adapter(AdapterSpec(method="language_modeling"), ByteTokenizer(), 4)
    states = adapter.adapt([instance("aébc")])
    assert [(s.request.prompt, s.num_conditioning_tokens) for s in states] == [("aé", 0), ("éb", 2), ("bc", 1)]


def test_without_a_clean_cut_the_count_is_recomputed_on_the_re_encoded_prompt() -> None:
    # context 3 -> windows of 2, stride 1: after "a" the only cut within reach is inside "é", so the second
    # window is "a" + byte 195, which decodes to "a\ufffd" and re-encodes to other bytes; "a" conditions it
    adapter = create_adapter(AdapterSpec(method="language_modeling"), ByteTokenizer(), 3)
    states = adapter.adapt([instance("aé")])
    assert [(s.request.prompt, s.num_conditioning_tokens) for s in states] == [("a", 0), ("a\ufffd", 1), ("é", 1)]


def client_ids(tokenizer: Tokenizer, prompt: str) -> list[int]:
    """The ids a client reads from a prompt: a leading prefix token is one special token (here -1)."""
    prefix = tokenizer.prefix_token
    if prefix and prompt.startswith(prefix):
        return [-1, *tokenizer.encode(prompt[len(prefix) :])]
    return tokenizer.encode(prompt)


def test_a_real_bpe_tokenizer_scores_the_document_exactly_once() -> None:
    tokenizer = get_tokenizer("openai/r50k_base")
    document = "Héllo wörld, “smart quotes” and emoji 🎉🎉, unbelievably. " * 12
    for context_window in (9, 64):
        adapter = create_adapter(AdapterSpec(method="language_modeling"), tokenizer, context_window)
        states = adapter.adapt([instance(document)])
        pieces = [
            tokenizer.decode(client_ids(tokenizer, s.request.prompt)[s.num_conditioning_tokens :]) for s in states
        ]
        assert "".join(pieces) == document
        assert all(len(client_ids(tokenizer, s.request.prompt)) <= context_window for s in states)
        assert not any("\ufffd" in s.request.prompt for s in states)


def test_the_first_window_starts_with_the_prefix_token_as_in_helm() -> None:
    # HELM: prompt = prefix_token + the first tokens, num_conditioning_tokens = 1; later windows have no prefix.
    tokenizer = get_tokenizer("openai/r50k_base")
    adapter = create_adapter(AdapterSpec(method="language_modeling"), tokenizer, 5)
    states = adapter.adapt([instance(" one two three four five six")])
    assert [(s.request.prompt, s.num_conditioning_tokens) for s in states] == [
        ("<|endoftext|> one two three four", 1),
        (" three four five six", 2),
    ]


def test_the_simple_model_scores_the_first_document_token_after_the_prefix() -> None:
    # Before: the first token of a document came back with logprob 0.0 (free); now it is conditioned on
    # <|endoftext|> and scored by the model's rule (-0.1 per character: " one" is -0.4).
    tokenizer = get_tokenizer("openai/r50k_base")
    [state] = create_adapter(AdapterSpec(method="language_modeling"), tokenizer, 100).adapt([instance(" one two")])
    client = SimpleClient(get_deployment("simple/model1"))
    result = client.make_request(state.request)
    tokens = result.completions[0].tokens
    assert [(t.text, t.logprob) for t in tokens] == [("<|endoftext|>", 0.0), (" one", -0.4), (" two", -0.4)]
    scored = tokens[state.num_conditioning_tokens :]
    assert sum(t.logprob for t in scored) == pytest.approx(-0.8)
