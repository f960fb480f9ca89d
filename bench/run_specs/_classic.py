"""Run-spec functions of scenarios from HELM Classic that download their data: raft, the_pile, twitter_aae,
wiki, copyright, commonsense_qa, babi_qa.

Each function is cheap: it builds the scenario (no I/O: arguments are checked, nothing is downloaded) and
returns the RunSpec; the data is fetched when the runner asks the scenario for its instances. Every argument has
a default, so the bare name (`raft`, `wiki`, `copyright`, ...) is a valid run entry. Adapter settings follow
HELM's run specs; instructions are written here (HELM downloads RAFT's at spec time, which these functions must
not do).
"""

from __future__ import annotations

from typing import Any, Literal

from bench._object_spec import MetricSpec
from bench.run_specs._common import (
    bare_adapter_spec,
    exact_match_metric_specs,
    generation_adapter_spec,
    language_modeling_adapter_spec,
    language_modeling_metric_specs,
    multiple_choice_adapter_spec,
    multiple_choice_metric_specs,
)
from bench.run_specs._functions import run_spec_function
from bench.run_specs._generated import _run_spec
from bench.run_specs._run_spec import RunSpec
from bench.scenarios._commonsense_qa import CommonsenseDataset
from bench.scenarios._copyright import CopyrightDatatag
from bench.scenarios._generation import check_range
from bench.scenarios._raft import LABELS, RaftSubset
from bench.scenarios._the_pile import PileSubset
from bench.scenarios._twitter_aae import TwitterAAEDemographic

RAFT_QUESTIONS: dict[str, str] = {
    "ade_corpus_v2": "Does the sentence from a medical report describe an adverse effect of a drug?",
    "banking_77": "Which customer-service intent does the banking customer's query express?",
    "neurips_impact_statement_risks": "Does the impact statement of the NeurIPS paper mention a harmful "
    "application of the research?",
    "one_stop_english": "Which reading level was the news article written for?",
    "overruling": "Does the sentence from a court decision overrule an earlier decision?",
    "semiconductor_org_types": "What kind of organization wrote the paper at a semiconductor conference?",
    "systematic_review_inclusion": "Should the paper be included in a review of studies on what makes people "
    "donate to charity?",
    "tai_safety_research": "Is the publication research on the safety of transformative AI?",
    "terms_of_service": "Is the clause of a terms-of-service document potentially unfair to consumers?",
    "tweet_eval_hate": "Is the tweet hate speech against immigrants or women?",
    "twitter_complaints": "Does the tweet complain about a company's product or service?",
}
"""The question each RAFT subset asks; the instructions add the subset's labels."""

MultipleChoiceMethod = Literal[
    "multiple_choice_separate_original", "multiple_choice_separate_calibrated", "multiple_choice_joint"
]


def raft_instructions(subset: str) -> str:
    """The subset's question and the labels an answer must be one of."""
    return f"{RAFT_QUESTIONS[subset]} Answer with one of these labels: {', '.join(LABELS[subset])}."


@run_spec_function("raft")
def raft_spec(subset: RaftSubset = "ade_corpus_v2") -> RunSpec:
    """Text classification by generating the label; exact match (HELM: up to 30 tokens, 5 examples)."""
    adapter_spec = generation_adapter_spec(
        instructions=raft_instructions(subset),
        input_prefix="",
        output_prefix="Label: ",
        max_train_instances=5,
        max_tokens=30,
    )
    return _run_spec("raft", {"subset": subset}, adapter_spec, exact_match_metric_specs(), ["raft"])


def _language_modeling_run_spec(scenario: str, args: dict[str, Any], groups: list[str]) -> RunSpec:
    """A RunSpec that scores the scenario's text itself: no prompt format; logprob, perplexity, bits per byte."""
    return _run_spec(scenario, args, language_modeling_adapter_spec(), language_modeling_metric_specs(), groups)


@run_spec_function("the_pile")
def the_pile_spec(subset: PileSubset = "ArXiv") -> RunSpec:
    """Language modeling of one Pile subset: logprob, perplexity, bits per byte."""
    return _language_modeling_run_spec("the_pile", {"subset": subset}, ["the_pile"])


@run_spec_function("twitter_aae")
def twitter_aae_spec(demographic: TwitterAAEDemographic = "aa") -> RunSpec:
    """Language modeling of tweets of one demographic; compare bits per byte between aa and white."""
    return _language_modeling_run_spec(
        "twitter_aae", {"demographic": demographic}, ["twitter_aae", f"twitter_aae_{demographic}"]
    )


@run_spec_function("wiki")
def wiki_spec(k: int = 5, subject: str = "P31") -> RunSpec:
    """Fact completion with k sampled guesses (temperature 1, as HELM); accuracy@k and best-guess accuracy.

    Raises:
        ValueError: for k below 1 or a subject that is not a property id.
    """
    check_range("k", k, 1)
    adapter_spec = generation_adapter_spec(
        input_prefix="",
        input_suffix="",
        output_prefix=" ",  # "<subject> <relation> <object>": the template and the object read as one sentence
        output_suffix="\n",
        max_train_instances=5,
        max_tokens=8,  # HELM: the longest object name in the data
        num_outputs=k,
        temperature=1.0,  # distinct guesses among the k
    )
    metric_specs = exact_match_metric_specs()  # with k outputs reference_match adds exact_match@k (HELM's @k)
    run_spec = _run_spec("wiki", {"subject": subject}, adapter_spec, metric_specs, ["wiki"])
    return run_spec.model_copy(update={"name": f"wiki:k={k},subject={subject}"})


@run_spec_function("copyright")
def copyright_spec(datatag: CopyrightDatatag | None = None, pilot_study: bool | None = None) -> RunSpec:
    """Continue a prefix (temperature 0.2, up to 1024 tokens, as HELM); verbatim overlap with the true text.

    `pilot_study` is the original benchmark's argument (`copyright:pilot_study=true`, kept so its README runs as
    written): true is the `pilot` data, false the full 1,000-book set with 125-token prefixes. `datatag` names a
    data file directly (HELM's later argument); without either, the pilot data.

    Raises:
        ValueError: when both are given.
    """
    if datatag is not None and pilot_study is not None:
        raise ValueError("give datatag or pilot_study, not both")
    if datatag is None:
        datatag = "n_books_1000-extractions_per_book_1-prefix_length_125" if pilot_study is False else "pilot"
    adapter_spec = bare_adapter_spec(max_tokens=1024, temperature=0.2)
    metric_specs = [
        MetricSpec(name="copyright", args={"normalize_by_prefix_length": True, "normalize_newline_space_tab": False}),
        MetricSpec(name="basic"),
        MetricSpec(name="efficiency"),
    ]
    return _run_spec("copyright", {"datatag": datatag}, adapter_spec, metric_specs, ["copyright"])


@run_spec_function("commonsense_qa")
def commonsense_qa_spec(
    dataset: CommonsenseDataset = "hellaswag", method: MultipleChoiceMethod = "multiple_choice_separate_original"
) -> RunSpec:
    """Multiple choice, each choice scored as a continuation (HELM: original for HellaSwag, calibrated for
    OpenBookQA); exact match and calibration.

    As HELM's `commonsense` run spec: joint is 5 examples under "The following are multiple choice questions
    (with answers) about common sense.", 5 completions of at most 5 tokens; separate is "<question> <choice>"
    zero-shot (see `multiple_choice_adapter_spec`).
    """
    adapter_spec = multiple_choice_adapter_spec(
        method,
        instructions="The following are multiple choice questions (with answers) about common sense.",
        input_prefix="Question: ",
        output_prefix="Answer: ",
    )
    groups = ["commonsense_qa", dataset]
    run_spec = _run_spec("commonsense_qa", {"dataset": dataset}, adapter_spec, multiple_choice_metric_specs(), groups)
    return run_spec.model_copy(update={"name": f"commonsense_qa:dataset={dataset},method={method}"})


@run_spec_function("babi_qa")
def babi_qa_spec(task: int = 1) -> RunSpec:
    """A story and a question; the answer is a word or two; exact match.

    As HELM (`get_generation_adapter_spec(input_noun="Passage", output_noun="Answer")`): no instructions, 5
    examples, at most 5 tokens, stop at a newline. Remaining difference, from the scenario: Mercury's input
    carries its own "Passage: " and joins the story's sentences with spaces, where HELM's input is the
    sentences one per line and the adapter adds "Passage: "; both then read "Question: <question>".

    Raises:
        ValueError: for a task outside 1..20.
    """
    adapter_spec = generation_adapter_spec(
        instructions="",
        input_prefix="",  # the scenario's input starts with "Passage: " already
        output_prefix="Answer: ",
        max_train_instances=5,
        max_tokens=5,
    )
    return _run_spec("babi_qa", {"task": task}, adapter_spec, exact_match_metric_specs(), ["babi_qa"])
