"""Run-spec functions of the generated scenarios (the embedded default: no download, no key).

Each is registered under its scenario's name and takes that scenario's arguments, typed, with defaults.
The RunSpec name is the entry name with every argument of the function, sorted (`lpm:difficulty=easy`);
the run-entry expander adds the model. Prompts are written for small instruct models (SmolLM2-135M): one
clear instruction, short answers, a newline stop.

Differences from HELM's run specs of the same names, kept on purpose (checked against HELM 0.5.16): these
scenarios generate their own instances (not HELM's generators, seeds or formats), so their figures cannot
sit next to HELM's whatever the prompt, and the prompt is tuned to the generated format instead. HELM uses
"Please solve the following problem." for simple1, synthetic_reasoning and synthetic_reasoning_natural (our
`lpm`), and a Dyck instruction of its own; Mercury states the task and the answer format. Per function:
- simple1: HELM's is a smoke test (3 outputs at temperature 1, 3 trials, stop "."); Mercury's is greedy,
  one output, stop at a newline, so its exact match means something.
- lpm: HELM's synthetic_reasoning_natural asks for 20 tokens after "Rules:\n" and scores set matches
  (f1_set_match, iou_set_match, exact_set_match); Mercury asks 10 tokens, 3 examples, and scores the
  generation family (its hard answers join attributes with "and", which token F1 credits in part).
- synthetic_reasoning: HELM shows 5 examples and allows 50 tokens; Mercury 3 examples (they fit the small
  model's context) and 30 tokens (the longest target is well under that).
- numeracy: standard and example modes show 20 points where HELM shows 100 (a small context).
- dyck_language: HELM completes after "Input: " with no output prefix, 5 tokens and exact_match_indicator;
  Mercury asks for the closing brackets after "Output: ", 10 tokens, exact and prefix match.
"""

from __future__ import annotations

from typing import Any

from bench._object_spec import MetricSpec, ScenarioSpec
from bench.adaptation import AdapterSpec
from bench.run_specs._common import (
    basic_metric_specs,
    exact_match_metric_specs,
    generation_adapter_spec,
    generation_metric_specs,
)
from bench.run_specs._functions import run_spec_function
from bench.run_specs._run_spec import RunSpec
from bench.scenarios import (
    LPMDifficulty,
    NumeracyMode,
    NumeracyRelationType,
    SyntheticReasoningMode,
    create_scenario,
)


def _run_spec(
    scenario: str,
    args: dict[str, Any],
    adapter_spec: AdapterSpec,
    metric_specs: list[MetricSpec],
    groups: list[str],
) -> RunSpec:
    """A RunSpec named after the scenario and its arguments.

    The scenario is built once here (cheap: generated scenarios do no I/O in their constructor) so that bad
    arguments fail when the entry is expanded, not later on a worker.
    """
    create_scenario(scenario, args)
    scenario_spec = ScenarioSpec(name=scenario, args=args)
    return RunSpec(
        name=scenario_spec.describe(),
        scenario_spec=scenario_spec,
        adapter_spec=adapter_spec,
        metric_specs=tuple(metric_specs),
        groups=tuple(groups),
    )


@run_spec_function("simple1", default_model="simple/model1")
def simple1_spec(
    num_input_tokens: int = 5, vocab_size: int = 20, num_train_instances: int = 10, num_test_instances: int = 100
) -> RunSpec:
    """The most frequent letter of a short sequence; the exact-match family, as HELM scores simple1."""
    adapter_spec = generation_adapter_spec(
        instructions="Which letter appears most often in the sequence? Answer with that letter only.",
        input_prefix="Sequence: ",
        output_prefix="Answer: ",
        max_train_instances=5,
        max_tokens=3,
    )
    args = {
        "num_input_tokens": num_input_tokens,
        "vocab_size": vocab_size,
        "num_train_instances": num_train_instances,
        "num_test_instances": num_test_instances,
    }
    return _run_spec("simple1", args, adapter_spec, exact_match_metric_specs(), ["simple1"])


@run_spec_function("lpm")
def lpm_spec(difficulty: LPMDifficulty = "easy") -> RunSpec:
    """Rules plus a fact; the answer is the attribute(s) that follow. Three examples fit a small context."""
    several = " If several follow, join them with 'and'." if difficulty == "hard" else ""
    adapter_spec = generation_adapter_spec(
        instructions="Use the rules and the fact to find what else is true. Answer with the attribute only." + several,
        input_prefix="",
        output_prefix="Answer: ",
        max_train_instances=3,
        max_tokens=10,
    )
    return _run_spec(
        "lpm", {"difficulty": difficulty}, adapter_spec, generation_metric_specs(), ["synthetic_reasoning", "lpm"]
    )


SYNTHETIC_REASONING_INSTRUCTIONS: dict[str, str] = {
    "pattern_match": "In a rule, each of X, Y and Z stands for one or two words. "
    "Which rule gives the result? Answer with that rule exactly as written.",
    "variable_substitution": "Replace each of X, Y and Z in the rule by its words. Answer with the result only.",
    "induction": "Both results come from one rule in which X, Y and Z each stand for one or two words. "
    "Write the rule, naming the first symbol X, the next new one Y, then Z.",
}


@run_spec_function("synthetic_reasoning")
def synthetic_reasoning_spec(mode: SyntheticReasoningMode = "pattern_match") -> RunSpec:
    """Symbolic rules (pattern match, substitution, induction); token overlap gives partial credit."""
    adapter_spec = generation_adapter_spec(
        instructions=SYNTHETIC_REASONING_INSTRUCTIONS[mode],
        input_prefix="",
        output_prefix="Target: ",
        max_train_instances=3,
        max_tokens=30,
    )
    groups = ["synthetic_reasoning", f"synthetic_reasoning_{mode}"]
    return _run_spec("synthetic_reasoning", {"mode": mode}, adapter_spec, generation_metric_specs(), groups)


FORMULAS: dict[str, tuple[str, str]] = {
    "linear": ("y = a*x + b", "a and b"),
    "parabola": ("y = a*x^2 + b*x + c", "a, b and c"),
    "plane": ("z = a*x + b*y + c", "a, b and c"),
    "paraboloid": ("z = a*x^2 + b*y^2 + c", "a, b and c"),
}
"""How the instructions describe each relation type: formula (its first letter is the output) and unknowns."""


@run_spec_function("numeracy")
def numeracy_spec(relation_type: NumeracyRelationType = "linear", mode: NumeracyMode = "function") -> RunSpec:
    """Predict a polynomial's value at a new point from points of it.

    In function mode the instance carries its own points (no in-context examples, as HELM); in standard and
    example modes the in-context examples are the points (20, where HELM shows 100).
    """
    formula, unknowns = FORMULAS[relation_type]
    output_variable = formula[0]
    instructions = (
        f"The points below follow one function {formula} with small whole numbers {unknowns}. "
        f"Give {output_variable} for the last point. Answer with a number only."
    )
    adapter_spec = generation_adapter_spec(
        instructions=instructions,
        input_prefix="",
        input_suffix="",
        output_prefix=f", {output_variable} = ",
        max_train_instances=0 if mode == "function" else 20,
        max_tokens=8,
    )
    if mode != "function":
        # The points read as one table: no blank line between in-context examples.
        adapter_spec = adapter_spec.model_copy(update={"instance_prefix": ""})
    args = {"relation_type": relation_type, "mode": mode}
    return _run_spec("numeracy", args, adapter_spec, exact_match_metric_specs(), ["numeracy"])


@run_spec_function("dyck_language")
def dyck_language_spec(num_parenthesis_pairs: int = 3) -> RunSpec:
    """Close a Dyck-n prefix. No quasi (normalized) matches: normalization strips the brackets."""
    adapter_spec = generation_adapter_spec(
        instructions="Complete the sequence: write only the closing brackets it still needs, separated by spaces.",
        input_prefix="Input: ",
        output_prefix="Output: ",
        max_train_instances=3,
        max_tokens=10,
    )
    args = {"num_parenthesis_pairs": num_parenthesis_pairs}
    metric_specs = basic_metric_specs(["exact_match", "prefix_exact_match"])
    return _run_spec("dyck_language", args, adapter_spec, metric_specs, ["dyck_language"])
