"""Adaptation: AdapterSpec, the adapters that turn instances into requests, and the states they produce.

Built-in adapters (AdapterSpec.method, registered by `bench.load_builtins()`): generation,
multiple_choice_joint, multiple_choice_separate_original, multiple_choice_separate_calibrated,
language_modeling; build them with `create_adapter`. The prompt helpers are public for other folders' use.
"""

from bench.adaptation._adapter import ADAPTERS, Adapter, adapter, create_adapter
from bench.adaptation._adapter_spec import AdapterSpec
from bench.adaptation._errors import AdaptationError
from bench.adaptation._in_context import InContextLearningAdapter, sample_examples
from bench.adaptation._prompt import FittedPrompt, Prompt, count_leading_tokens, fit_prompt
from bench.adaptation._request_state import RequestState, ScenarioState
from bench.adaptation._windows import Window, sliding_windows

__all__ = [
    "ADAPTERS",
    "AdaptationError",
    "Adapter",
    "AdapterSpec",
    "FittedPrompt",
    "InContextLearningAdapter",
    "Prompt",
    "RequestState",
    "ScenarioState",
    "Window",
    "adapter",
    "count_leading_tokens",
    "create_adapter",
    "fit_prompt",
    "sample_examples",
    "sliding_windows",
]
