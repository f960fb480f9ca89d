"""Run-spec functions of the downloaded classic scenarios: bare names work, nothing is downloaded, specs are
right for their task, and the argument choices are the scenarios' own."""

from __future__ import annotations

from typing import Any, get_args, get_type_hints

import pytest

from bench import RunEntryError
from bench.run_specs import RUN_SPEC_FUNCTIONS, RunSpec, expand_run_entry
from bench.scenarios import _babi_qa, _commonsense_qa, _copyright, _raft, _the_pile, _twitter_aae, _wiki_fact
from bench.scenarios._commonsense_qa import DATASETS
from bench.scenarios._copyright import DATATAGS
from bench.scenarios._raft import SUBSETS as RAFT_SUBSETS
from bench.scenarios._the_pile import SUBSETS as PILE_SUBSETS
from bench.scenarios._twitter_aae import DEMOGRAPHICS

NAMES = {
    "raft": "raft:subset=ade_corpus_v2",
    "the_pile": "the_pile:subset=ArXiv",
    "twitter_aae": "twitter_aae:demographic=aa",
    "wiki": "wiki:k=5,subject=P31",
    "copyright": "copyright:datatag=pilot",
    "commonsense_qa": "commonsense_qa:dataset=hellaswag,method=multiple_choice_separate_original",
    "babi_qa": "babi_qa:task=1",
}


@pytest.fixture
def no_download(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any download attempt fails the test: run-spec functions must stay cheap."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a run-spec function tried to download {args}")

    for module in (_babi_qa, _commonsense_qa, _copyright, _raft, _the_pile, _twitter_aae, _wiki_fact):
        monkeypatch.setattr(module, "ensure_file_downloaded", refuse)


@pytest.mark.parametrize(("entry", "name"), NAMES.items())
def test_bare_name_builds_a_run_spec_without_downloading(entry: str, name: str, no_download: None) -> None:
    run_spec = RUN_SPEC_FUNCTIONS.get(entry)()
    assert run_spec.name == name
    assert run_spec.scenario_spec.name == entry
    assert run_spec.adapter_spec.model == "simple/model1"
    assert RunSpec.model_validate_json(run_spec.model_dump_json()) == run_spec
    [expanded] = expand_run_entry(f"{entry}:model=openai/davinci")
    assert expanded.adapter_spec.model == "openai/davinci"


def test_metric_specs_per_task() -> None:
    def metrics(entry: str) -> list[str]:
        return [spec.name for spec in RUN_SPEC_FUNCTIONS.get(entry)().metric_specs]

    assert metrics("the_pile") == metrics("twitter_aae") == ["language_modeling", "efficiency"]
    assert metrics("copyright") == ["copyright", "basic", "efficiency"]
    assert metrics("wiki")[0] == "reference_match"  # exact_match@k comes from reference_match, as in HELM
    assert metrics("raft")[0] == metrics("babi_qa")[0] == "reference_match"
    assert "calibration" in metrics("commonsense_qa")


def test_adapters_follow_helm() -> None:
    assert RUN_SPEC_FUNCTIONS.get("the_pile")().adapter_spec.method == "language_modeling"
    wiki = RUN_SPEC_FUNCTIONS.get("wiki")(k=2, subject="P36").adapter_spec
    assert (wiki.num_outputs, wiki.temperature, wiki.max_tokens, wiki.output_prefix) == (2, 1.0, 8, " ")
    copyright_ = RUN_SPEC_FUNCTIONS.get("copyright")().adapter_spec
    assert (copyright_.max_tokens, copyright_.temperature, copyright_.stop_sequences) == (1024, 0.2, ())
    assert copyright_.max_train_instances == 0
    calibrated = RUN_SPEC_FUNCTIONS.get("commonsense_qa")(dataset="piqa", method="multiple_choice_separate_calibrated")
    assert calibrated.adapter_spec.method == "multiple_choice_separate_calibrated"
    assert calibrated.name == "commonsense_qa:dataset=piqa,method=multiple_choice_separate_calibrated"
    babi = RUN_SPEC_FUNCTIONS.get("babi_qa")(task=2).adapter_spec  # HELM: no instructions, 5 tokens
    assert (babi.instructions, babi.max_tokens, babi.max_train_instances, babi.output_prefix) == ("", 5, 5, "Answer: ")
    raft = RUN_SPEC_FUNCTIONS.get("raft")(subset="one_stop_english").adapter_spec
    assert raft.instructions.endswith("Answer with one of these labels: advanced, elementary, intermediate.")
    assert raft.output_prefix == "Label: "


def test_signature_choices_are_the_scenarios_choices() -> None:
    def choices(entry: str, argument: str) -> tuple[Any, ...]:
        hint = get_type_hints(RUN_SPEC_FUNCTIONS.get(entry))[argument]
        literals = [a for a in get_args(hint) if a is not type(None)]  # an optional argument: Literal[...] | None
        return get_args(literals[0]) if len(literals) == 1 and get_args(literals[0]) else get_args(hint)

    assert choices("raft", "subset") == RAFT_SUBSETS
    assert choices("the_pile", "subset") == PILE_SUBSETS
    assert choices("twitter_aae", "demographic") == DEMOGRAPHICS
    assert choices("copyright", "datatag") == DATATAGS
    assert choices("commonsense_qa", "dataset") == DATASETS


def test_bad_arguments_fail_when_the_entry_is_expanded() -> None:
    with pytest.raises(RunEntryError, match="task must be between 1 and 20, got 0"):
        expand_run_entry("babi_qa:task=0,model=simple/model1")
    with pytest.raises(RunEntryError, match="subject 'capital' is not valid"):
        expand_run_entry("wiki:subject=capital,model=simple/model1")
    with pytest.raises(RunEntryError, match="argument subset='Reddit'"):
        expand_run_entry("the_pile:subset=Reddit,model=simple/model1")
