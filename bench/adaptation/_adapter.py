"""The `Adapter` interface and its registry (one adapter per adaptation method)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

from bench._instance import Instance
from bench._registry import Registry
from bench.adaptation._adapter_spec import AdapterSpec
from bench.adaptation._request_state import RequestState
from bench.tokenizers._tokenizer import Tokenizer

AdapterFactory = Callable[[AdapterSpec, Tokenizer, int], "Adapter"]

ADAPTERS: Registry[AdapterFactory] = Registry("adaptation method")


def adapter(method: str) -> Callable[[AdapterFactory], AdapterFactory]:
    """Register an adapter class for the adaptation method `method`."""
    return ADAPTERS.register(method)


class Adapter(ABC):
    """Turns instances into request states for one AdapterSpec and one model's context window."""

    def __init__(self, adapter_spec: AdapterSpec, tokenizer: Tokenizer, context_window: int) -> None:
        self.adapter_spec = adapter_spec
        self.tokenizer = tokenizer
        self.context_window = context_window

    @abstractmethod
    def adapt(self, instances: list[Instance]) -> list[RequestState]:
        """Request states for the evaluation instances (valid and test splits), in instance order.

        `instances` holds the train split (source of in-context examples) and the evaluation instances,
        already subsampled and perturbed by the runner. For each train trial t in
        range(num_train_trials), in-context examples are drawn with seed t.
        """


def create_adapter(adapter_spec: AdapterSpec, tokenizer: Tokenizer, context_window: int) -> Adapter:
    """The adapter for `adapter_spec.method`."""
    return ADAPTERS.get(adapter_spec.method)(adapter_spec, tokenizer, context_window)
