"""Hand-built RequestStates for the metric tests (no adapter, no model)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from bench import CORRECT_TAG, GeneratedOutput, Instance, Reference, Request, RequestResult, Token
from bench.adaptation import AdapterSpec, RequestState
from bench.adaptation._adapter_spec import AdaptationMethod
from bench.metrics import MetricContext
from bench.models import ModelDeployment
from tests.fakes import WordTokenizer

MODEL = "simple/model1"
FAILED = RequestResult.failure("boom", retriable=False)


def context(method: AdaptationMethod = "generation") -> MetricContext:
    """A context with the word tokenizer and a deployment priced $2 / $10 per million tokens."""
    deployment = ModelDeployment(
        name=MODEL,
        client="simple",
        tokenizer="test/words",
        context_window=1000,
        price_per_1m_input_tokens=2.0,
        price_per_1m_output_tokens=10.0,
    )
    return MetricContext(adapter_spec=AdapterSpec(method=method), tokenizer=WordTokenizer(), deployment=deployment)


def instance(outputs: Sequence[str], correct: Sequence[int], id_: str = "id0") -> Instance:
    """An instance with references `outputs`, those at indices `correct` tagged correct."""
    references = tuple(Reference(output=o, tags=(CORRECT_TAG,) if i in correct else ()) for i, o in enumerate(outputs))
    return Instance(input="question?", references=references, id=id_)


def success(*completions: GeneratedOutput, request_time: float | None = None, cached: bool = False) -> RequestResult:
    return RequestResult(success=True, completions=completions, request_time=request_time, cached=cached)


def completion(text: str, logprobs: Sequence[float] = (), finish_reason: str | None = None) -> GeneratedOutput:
    """A completion of `text` whose tokens are its words (with leading spaces) with `logprobs`."""
    pieces = WordTokenizer().tokenize(text) if logprobs else []
    tokens = tuple(Token(text=p, logprob=lp) for p, lp in zip(pieces, logprobs, strict=True))
    return GeneratedOutput(text=text, logprob=sum(logprobs), tokens=tokens, finish_reason=finish_reason)


def generation_state(inst: Instance, text: str, result: RequestResult | None = None) -> RequestState:
    """A generation state whose completion is `text` (or whose result is `result`)."""
    return RequestState(
        instance=inst,
        request=Request(model=MODEL, prompt="Input: question?\nOutput:"),
        result=result or success(completion(text)),
    )


def joint_state(inst: Instance, text: str, letter_probs: dict[str, float], logprob: float = -0.1) -> RequestState:
    """A joint multiple-choice state answering `text` with `logprob`; its first token's top-k are `letter_probs`."""
    letters = [chr(ord("A") + i) for i in range(len(inst.references))]
    mapping = {letter: ref.output for letter, ref in zip(letters, inst.references)}
    top = {key: math.log(p) for key, p in letter_probs.items()}
    first = Token(text=text.split()[0] if text.split() else text, logprob=logprob, top_logprobs=top)
    result = success(GeneratedOutput(text=text, logprob=logprob, tokens=(first,)))
    request = Request(model=MODEL, prompt="Q", top_k_per_token=len(letters), max_tokens=1)
    return RequestState(instance=inst, request=request, output_mapping=mapping, result=result)


def echo_state(
    inst: Instance,
    logprobs: Sequence[float],
    num_conditioning_tokens: int,
    reference_index: int | None = None,
    request_mode: Literal["original", "calibration"] | None = None,
    texts: Sequence[str] | None = None,
) -> RequestState:
    """An echo request (max_tokens=0) whose prompt tokens have `logprobs`; the first ones only condition."""
    texts = texts or [f" t{i}" for i in range(len(logprobs))]
    tokens = tuple(Token(text=t, logprob=lp) for t, lp in zip(texts, logprobs, strict=True))
    prompt = "".join(texts)
    result = success(GeneratedOutput(text=prompt, logprob=sum(logprobs), tokens=tokens))
    return RequestState(
        instance=inst,
        request=Request(model=MODEL, prompt=prompt, echo_prompt=True, max_tokens=0),
        result=result,
        reference_index=reference_index,
        request_mode=request_mode,
        num_conditioning_tokens=num_conditioning_tokens,
    )
