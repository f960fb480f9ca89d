"""Shared builders that keep run-spec functions short: adapter specs and metric specs by task type."""

from __future__ import annotations

from bench._object_spec import MetricSpec
from bench.adaptation._adapter_spec import AdaptationMethod, AdapterSpec

PLACEHOLDER_MODEL = "simple/model1"
"""Model put in adapter specs by run-spec functions; the run-entry expander replaces it."""


def generation_adapter_spec(
    *,
    instructions: str = "",
    input_prefix: str = "Input: ",
    input_suffix: str = "\n",
    output_prefix: str = "Output: ",
    output_suffix: str = "\n",
    max_train_instances: int = 5,
    max_tokens: int = 20,
    num_outputs: int = 1,
    temperature: float = 0.0,
    stop_sequences: tuple[str, ...] = ("\n",),
) -> AdapterSpec:
    """An AdapterSpec for free-text generation."""
    return AdapterSpec(
        method="generation",
        instructions=instructions,
        input_prefix=input_prefix,
        input_suffix=input_suffix,
        output_prefix=output_prefix,
        output_suffix=output_suffix,
        max_train_instances=max_train_instances,
        max_tokens=max_tokens,
        num_outputs=num_outputs,
        temperature=temperature,
        stop_sequences=stop_sequences,
        model=PLACEHOLDER_MODEL,
    )


def bare_adapter_spec(
    method: AdaptationMethod = "generation",
    *,
    output_prefix: str = "",
    max_tokens: int = 0,
    num_outputs: int = 1,
    temperature: float = 0.0,
    stop_sequences: tuple[str, ...] = (),
) -> AdapterSpec:
    """An AdapterSpec that sends the input alone: no instructions, prefixes, suffixes or in-context examples
    (a continuation, code from its signature, text scored token by token, a choice scored after its input)."""
    return AdapterSpec(
        method=method,
        instructions="",
        input_prefix="",
        input_suffix="",
        output_prefix=output_prefix,
        output_suffix="",
        max_train_instances=0,
        num_outputs=num_outputs,
        max_tokens=max_tokens,
        temperature=temperature,
        stop_sequences=stop_sequences,
        model=PLACEHOLDER_MODEL,
    )


def multiple_choice_adapter_spec(
    method: AdaptationMethod = "multiple_choice_joint",
    *,
    instructions: str = "",
    input_prefix: str = "Question: ",
    input_suffix: str = "\n",
    output_prefix: str = "Answer: ",
    max_train_instances: int = 5,
) -> AdapterSpec:
    """An AdapterSpec for multiple choice, as HELM's `get_multiple_choice_adapter_spec` builds it.

    Joint (HELM's `get_multiple_choice_joint_adapter_spec`): the instructions, the framing given here, 5
    completions of at most 5 tokens at temperature 0, stop at a newline; the completion with the highest
    logprob is scored and `exact_match@5` reported beside it. Separate (HELM's
    `get_multiple_choice_separate_adapter_spec`): the instructions and framing are ignored, the prompt is
    "<input> <choice>" (zero-shot, one echo request per choice, nothing generated).
    """
    if method == "multiple_choice_joint":
        return AdapterSpec(
            method=method,
            instructions=instructions,
            input_prefix=input_prefix,
            input_suffix=input_suffix,
            output_prefix=output_prefix,
            output_suffix="\n",
            max_train_instances=max_train_instances,
            num_outputs=5,
            max_tokens=5,
            temperature=0.0,
            stop_sequences=("\n",),
            model=PLACEHOLDER_MODEL,
        )
    return bare_adapter_spec(method, output_prefix=" ")


def language_modeling_adapter_spec(*, max_tokens: int = 0) -> AdapterSpec:
    """An AdapterSpec for language modeling: no prompt format, prompt tokens scored with echo."""
    return bare_adapter_spec("language_modeling", max_tokens=max_tokens)


def basic_metric_specs(names: list[str]) -> list[MetricSpec]:
    """Reference-matching metrics `names`, plus the basic and efficiency metrics every run reports."""
    return [
        MetricSpec(name="reference_match", args={"names": names}),
        MetricSpec(name="basic"),
        MetricSpec(name="efficiency"),
    ]


def exact_match_metric_specs() -> list[MetricSpec]:
    """Exact-match family: what classification-like generation tasks report."""
    return basic_metric_specs(["exact_match", "quasi_exact_match", "prefix_exact_match", "quasi_prefix_exact_match"])


def generation_metric_specs() -> list[MetricSpec]:
    """Exact-match family plus token-overlap metrics (F1, ROUGE-L, BLEU-1/4) for free-text answers."""
    return basic_metric_specs(
        ["exact_match", "quasi_exact_match", "prefix_exact_match", "f1_score", "rouge_l", "bleu_1", "bleu_4"]
    )


def multiple_choice_metric_specs() -> list[MetricSpec]:
    """Exact match plus calibration (ECE, 10 bins) for multiple choice."""
    return [*exact_match_metric_specs(), MetricSpec(name="calibration")]


def language_modeling_metric_specs() -> list[MetricSpec]:
    """Logprob, perplexity and bits per byte for language modeling."""
    return [MetricSpec(name="language_modeling"), MetricSpec(name="efficiency")]
