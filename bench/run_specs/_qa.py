"""Run-spec functions of the question-answering scenarios whose data is downloaded: mmlu, boolq,
narrative_qa, natural_qa and quac.

Prompts and metrics follow HELM's (classic and lite run specs): multiple choice with a subject instruction for
MMLU, "Passage:"/"Question:"/"Answer:" framing for reading comprehension, exact match for yes/no answers and
token-overlap metrics (F1, and ROUGE-L and BLEU for NarrativeQA) for free-text answers. Building a RunSpec
builds its scenario, which checks the arguments and downloads nothing: data is fetched when a run reads the
instances.
"""

from __future__ import annotations

from typing import Literal

from bench.run_specs._common import (
    basic_metric_specs,
    exact_match_metric_specs,
    generation_adapter_spec,
    generation_metric_specs,
    multiple_choice_adapter_spec,
    multiple_choice_metric_specs,
)
from bench.run_specs._functions import run_spec_function
from bench.run_specs._generated import _run_spec
from bench.run_specs._run_spec import RunSpec
from bench.scenarios._mmlu import MMLUSubject
from bench.scenarios._natural_qa import NaturalQAMode

MultipleChoiceMethod = Literal[
    "multiple_choice_joint", "multiple_choice_separate_original", "multiple_choice_separate_calibrated"
]

F1_METRIC_NAMES = ["exact_match", "quasi_exact_match", "f1_score"]
"""What HELM reports for short free-text answers (its get_f1_metric_specs)."""


@run_spec_function("mmlu")
def mmlu_spec(
    subject: MMLUSubject = "abstract_algebra", method: MultipleChoiceMethod = "multiple_choice_joint"
) -> RunSpec:
    """Five dev questions as examples, then the question and its lettered choices; accuracy and calibration.

    As HELM's `mmlu` run spec: joint asks for 5 completions of at most 5 tokens at temperature 0 (the most
    likely one is scored, `exact_match@5` beside it); the separate methods score "<question> <choice>".
    """
    adapter_spec = multiple_choice_adapter_spec(
        method,
        instructions=f"The following are multiple choice questions (with answers) about {subject.replace('_', ' ')}.",
        input_prefix="Question: ",
        output_prefix="Answer: ",
        max_train_instances=5,
    )
    run_spec = _run_spec("mmlu", {"subject": subject}, adapter_spec, multiple_choice_metric_specs(), ["mmlu"])
    # The method is not a scenario argument, yet it makes a different run: it goes in the name too.
    return run_spec.model_copy(update={"name": f"mmlu:method={method},subject={subject}"})


@run_spec_function("boolq")
def boolq_spec() -> RunSpec:
    """Passage and question; the answer is Yes or No, scored by exact match."""
    adapter_spec = generation_adapter_spec(
        input_prefix="Passage: ", output_prefix="Answer: ", max_train_instances=5, max_tokens=5
    )
    return _run_spec("boolq", {}, adapter_spec, exact_match_metric_specs(), ["boolq"])


@run_spec_function("narrative_qa")
def narrative_qa_spec() -> RunSpec:
    """Story summary and question; free-text answers (at most about 30 words) scored by F1, ROUGE-L and BLEU."""
    adapter_spec = generation_adapter_spec(
        input_prefix="Passage: ", output_prefix="Answer: ", max_train_instances=5, max_tokens=100
    )
    return _run_spec("narrative_qa", {}, adapter_spec, generation_metric_specs(), ["narrative_qa"])


@run_spec_function("natural_qa")
def natural_qa_spec(mode: NaturalQAMode = "closedbook") -> RunSpec:
    """The question, alone or after its context (which carries its own "Passage:" and "Question:"); F1."""
    adapter_spec = generation_adapter_spec(
        input_prefix="Question: " if mode == "closedbook" else "",
        output_prefix="Answer: ",
        max_train_instances=5,
        max_tokens=300,  # answers are at most 65 words
    )
    metric_specs = basic_metric_specs(F1_METRIC_NAMES)
    return _run_spec("natural_qa", {"mode": mode}, adapter_spec, metric_specs, [f"natural_qa_{mode}"])


@run_spec_function("quac")
def quac_spec() -> RunSpec:
    """The section, the dialogue so far and the next question; answers of at most 30 words scored by F1."""
    adapter_spec = generation_adapter_spec(
        input_prefix="", output_prefix="Answer: ", max_train_instances=5, max_tokens=100
    )
    return _run_spec("quac", {}, adapter_spec, basic_metric_specs(F1_METRIC_NAMES), ["quac"])
