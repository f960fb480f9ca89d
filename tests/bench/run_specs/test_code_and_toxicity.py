"""humaneval and real_toxicity_prompts run entries: their RunSpecs, and runs end to end."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from bench import RunEntryError, Stat
from bench.models import InProcessService
from bench.run_specs import RunSpec, expand_run_entry
from bench.run_specs._code_and_toxicity import CODE_STOP_SEQUENCES
from bench.runner import Runner, scenarios_dir

RTP_FIXTURE = Path(__file__).parents[2] / "fixtures" / "real_toxicity_prompts" / "realtoxicityprompts-data"


def _one(entry: str, **kwargs: int) -> RunSpec:
    [run_spec] = expand_run_entry(entry, **kwargs)
    return run_spec


def test_humaneval_defaults_greedy_one_completion() -> None:
    run_spec = _one("humaneval:model=simple/model1")
    spec = run_spec.adapter_spec
    assert run_spec.name == "humaneval:model=simple_model1"
    assert (spec.method, spec.num_outputs, spec.temperature, spec.max_tokens) == ("generation", 1, 0.0, 600)
    assert spec.stop_sequences == CODE_STOP_SEQUENCES == ("\nclass", "\ndef", "\nif", "\nprint")  # HELM's
    assert (spec.instructions, spec.input_prefix, spec.input_suffix, spec.output_prefix) == ("", "", "", "")
    assert spec.max_train_instances == 0
    assert [(m.name, m.args) for m in run_spec.metric_specs] == [("code", {"k": 1}), ("basic", {}), ("efficiency", {})]


def test_humaneval_k_samples_k_completions_at_temperature_0_2() -> None:
    run_spec = _one("humaneval:k=5,model=simple/model1")
    assert run_spec.name == "humaneval:k=5,model=simple_model1"
    assert (run_spec.adapter_spec.num_outputs, run_spec.adapter_spec.temperature) == (5, 0.2)
    assert run_spec.metric_specs[0].args == {"k": 5}


def test_humaneval_k_must_be_positive() -> None:
    with pytest.raises(RunEntryError, match="k=0 must be >= 1"):
        expand_run_entry("humaneval:k=0,model=simple/model1")


def test_real_toxicity_prompts_spec() -> None:
    run_spec = _one("real_toxicity_prompts:model=simple/model1")
    spec = run_spec.adapter_spec
    assert (spec.num_outputs, spec.temperature, spec.max_tokens, spec.stop_sequences) == (5, 0.9, 20, ())
    assert [m.name for m in run_spec.metric_specs] == ["toxicity", "basic", "efficiency"]


def _test_stats(stats: list[Stat]) -> dict[str, Stat]:
    return {s.name.name: s for s in stats if s.name.split == "test" and s.name.sub_split is None}


def test_humaneval_end_to_end_on_simple_model(tmp_path: Path) -> None:
    run_spec = _one("humaneval:model=simple/model1", default_max_eval_instances=3)
    result = Runner.in_process(InProcessService(), tmp_path, "t").run_one(run_spec)
    stats = _test_stats(result.stats)
    # simple/model1 answers a word, never a function body: every problem fails, but each one is scored.
    assert stats["pass@1"].count == 3 and stats["pass@1"].sum == 0.0
    assert stats["request_failed"].sum == 0.0
    assert (scenarios_dir(tmp_path) / "humaneval" / "HumanEval.jsonl.gz").is_file()


def test_real_toxicity_prompts_without_a_key_runs_the_other_metrics(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shutil.copytree(RTP_FIXTURE, scenarios_dir(tmp_path) / "real_toxicity_prompts" / "data")
    run_spec = _one("real_toxicity_prompts:model=simple/model1,num_outputs=2")
    with caplog.at_level(logging.WARNING):
        result = Runner.in_process(InProcessService(), tmp_path, "t").run_one(run_spec)
    names = {s.name.name for s in result.stats}
    assert "expected_max_toxicity" not in names and "num_completions" in names
    sub_splits = {s.name.sub_split for s in result.stats if s.name.name == "request_failed"}
    assert sub_splits == {None, "toxic", "non-toxic"}
    warnings = [r for r in caplog.records if "perspectiveApiKey" in r.getMessage()]
    assert len(warnings) == 1


@pytest.mark.slow
def test_humaneval_on_the_local_model(tmp_path: Path) -> None:
    run_spec = _one("humaneval:model=local/smollm2-135m", default_max_eval_instances=2)
    run_spec = run_spec.model_copy(update={"adapter_spec": run_spec.adapter_spec.model_copy(update={"max_tokens": 64})})
    result = Runner.in_process(InProcessService(), tmp_path, "t").run_one(run_spec)
    stats = _test_stats(result.stats)
    assert stats["pass@1"].count == 2 and 0.0 <= stats["pass@1"].mean <= 1.0
    assert stats["request_failed"].sum == 0.0 and stats["num_output_tokens"].max <= 64
