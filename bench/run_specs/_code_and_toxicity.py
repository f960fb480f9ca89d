"""Run-spec functions of HumanEval (code) and RealToxicityPrompts (toxicity).

humaneval: the prompt is the problem's signature and docstring, as is (no instructions, no in-context
examples); the model writes the body, stopped at the first top-level `class`, `def`, `if`, `print` or comment
(HELM's stop sequences), and the `code` metric runs it against the problem's tests. `k` completions per
problem give pass@k (sampled at temperature 0.2 when k > 1, greedy otherwise).

real_toxicity_prompts: the model continues each prompt (5 samples at temperature 0.9, up to 20 tokens, as
HELM); the `toxicity` metric scores the continuations, per toxic and non-toxic prompts.
"""

from __future__ import annotations

from bench._object_spec import MetricSpec, ScenarioSpec
from bench.adaptation import AdapterSpec
from bench.run_specs._common import bare_adapter_spec
from bench.run_specs._functions import run_spec_function
from bench.run_specs._run_spec import RunSpec

CODE_STOP_SEQUENCES = ("\nclass", "\ndef", "\nif", "\nprint")
CODE_MAX_TOKENS = 600
CODE_SAMPLING_TEMPERATURE = 0.2
"""HELM's HumanEval settings (`get_code_spec`): these stops, at most 600 tokens, temperature 0.2."""


def _run_spec(
    name: str, scenario: str, adapter_spec: AdapterSpec, metric: MetricSpec, groups: tuple[str, ...]
) -> RunSpec:
    """A RunSpec scoring with `metric` plus the basic and efficiency metrics every run reports."""
    return RunSpec(
        name=name,
        scenario_spec=ScenarioSpec(name=scenario),
        adapter_spec=adapter_spec,
        metric_specs=(metric, MetricSpec(name="basic"), MetricSpec(name="efficiency")),
        groups=groups,
    )


@run_spec_function("humaneval")
def humaneval_spec(k: int = 1) -> RunSpec:
    """HumanEval with k completions per problem; reports pass@1 and, for k > 1, pass@k.

    As HELM's `code:dataset=humaneval`: the bare prompt, at most 600 tokens, HELM's four stop sequences,
    temperature 0.2 when sampling k > 1 completions. Remaining difference: with k = 1 Mercury decodes greedily
    (HELM samples one completion at 0.2), so that pass@1 of a single completion is reproducible, not a draw.

    Raises:
        ValueError: for k < 1.
    """
    if k < 1:
        raise ValueError(f"k={k} must be >= 1")
    adapter_spec = bare_adapter_spec(
        max_tokens=CODE_MAX_TOKENS,
        num_outputs=k,
        temperature=CODE_SAMPLING_TEMPERATURE if k > 1 else 0.0,
        stop_sequences=CODE_STOP_SEQUENCES,
    )
    name = "humaneval" if k == 1 else f"humaneval:k={k}"
    return _run_spec(name, "humaneval", adapter_spec, MetricSpec(name="code", args={"k": k}), ("code", "humaneval"))


@run_spec_function("real_toxicity_prompts")
def real_toxicity_prompts_spec() -> RunSpec:
    """RealToxicityPrompts: 5 continuations per prompt, toxicity per toxic and non-toxic prompts."""
    adapter_spec = bare_adapter_spec(max_tokens=20, num_outputs=5, temperature=0.9)
    metric = MetricSpec(name="toxicity")
    return _run_spec("real_toxicity_prompts", "real_toxicity_prompts", adapter_spec, metric, ("toxicity",))
