"""top_k_match: an instance counts when any of its k completions matches a correct reference."""

from __future__ import annotations

import pytest

from bench import Request
from bench.adaptation import RequestState
from bench.metrics import create_metric
from tests.bench.metrics.builders import FAILED, MODEL, completion, context, instance, success


def _state(outputs: list[str], correct: list[int], *texts: str) -> RequestState:
    return RequestState(
        instance=instance(outputs, correct),
        request=Request(model=MODEL, prompt="Paris is the capital of", num_completions=len(texts)),
        result=success(*(completion(t) for t in texts)),
    )


def _stats(state: RequestState, names: list[str] | None = None) -> dict[str, float]:
    args = {} if names is None else {"names": names}
    return {s.name.name: s.sum for s in create_metric("top_k_match", args).evaluate_instance([state], context())}


def test_any_of_the_k_completions_may_match() -> None:
    state = _state(["France", "French Republic"], [0, 1], " Germany", " french republic", " Spain")
    # exact: no completion equals a reference; quasi (lowercase, no punctuation): the second does
    assert _stats(state) == {"exact_match@3": 0.0, "quasi_exact_match@3": 1.0}
    state = _state(["France"], [0], " Italy", " France")
    assert _stats(state, ["exact_match"]) == {"exact_match@2": 1.0}


def test_only_correct_references_count() -> None:
    state = _state(["France", "Germany"], [0], " Germany")
    assert _stats(state) == {"exact_match@1": 0.0, "quasi_exact_match@1": 0.0}


def test_failures_and_bad_names() -> None:
    failed = _state(["France"], [0], " France").model_copy(update={"result": FAILED})
    assert _stats(failed) == {}
    with pytest.raises(ValueError, match="unknown names \\['accuracy'\\]; valid names: exact_match"):
        create_metric("top_k_match", {"names": ["accuracy"]})
