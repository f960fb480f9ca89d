"""Run-spec functions of mmlu, boolq, narrative_qa, natural_qa and quac: the specs, and each run entry end to
end on simple/model1 and as a dry run on openai/davinci, from the fixtures placed in the scenario cache."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path
from typing import Any, get_args, get_type_hints

import pytest

from bench import ScenarioDataError
from bench.models import InProcessService
from bench.run_specs import RUN_SPEC_FUNCTIONS, RunSpec, expand_run_entry
from bench.runner import Runner, dry_run
from bench.scenarios import _mmlu
from bench.scenarios._mmlu import SUBJECTS
from bench.scenarios._natural_qa import FILES as NQ_FILES
from bench.scenarios._natural_qa import MODES as NQ_MODES
from jobs.benchmark_run import main

FIXTURES = Path(__file__).parents[2] / "fixtures"

F1 = ["exact_match", "quasi_exact_match", "f1_score"]
GENERATION = ["exact_match", "quasi_exact_match", "prefix_exact_match", "f1_score", "rouge_l", "bleu_1", "bleu_4"]

ENTRIES: list[tuple[str, str, list[str]]] = [
    # (run entry, scenario name, reference-match stats the run must report)
    ("mmlu:subject=anatomy", "mmlu", ["exact_match", "exact_match@5", "prefix_exact_match", "ece_10_bin"]),
    ("mmlu:subject=anatomy,method=multiple_choice_separate_original", "mmlu", ["exact_match", "ece_10_bin"]),
    ("boolq", "boolq", ["exact_match", "quasi_exact_match", "prefix_exact_match", "quasi_prefix_exact_match"]),
    ("narrative_qa", "narrative_qa", GENERATION),
    ("natural_qa:mode=closedbook", "natural_qa", F1),
    ("natural_qa:mode=openbook_longans", "natural_qa", F1),
    ("natural_qa:mode=openbook_wiki", "natural_qa", F1),
    ("quac", "quac", F1),
]


def place_fixture(output_path: Path, scenario: str) -> None:
    """Put the scenario's fixture where the download would: <output>/scenarios/<scenario>/data/..."""
    cache = output_path / "scenarios" / scenario
    if scenario == "natural_qa":  # stored as JSON lines, published gzipped
        (cache / "data").mkdir(parents=True)
        for name in NQ_FILES:
            source = FIXTURES / "natural_qa" / name.removesuffix(".gz")
            (cache / "data" / name).write_bytes(gzip.compress(source.read_bytes()))
    else:
        shutil.copytree(FIXTURES / scenario, cache)


def with_keys(entry: str, keys: str) -> str:
    """`entry` with more key=value pairs (a bare name takes ':' before them)."""
    return f"{entry}{',' if ':' in entry else ':'}{keys}"


def _eval_stats(run_stats: list[Any]) -> dict[str, list[Any]]:
    """The unperturbed stats of the evaluation splits by metric name (one per split present)."""
    by_name: dict[str, list[Any]] = {}
    for stat in run_stats:
        if stat.name.split in ("valid", "test") and stat.name.perturbation is None:
            by_name.setdefault(stat.name.name, []).append(stat)
    return by_name


@pytest.mark.parametrize(("entry", "scenario", "metrics"), ENTRIES)
def test_entry_runs_end_to_end_on_simple_model(tmp_path: Path, entry: str, scenario: str, metrics: list[str]) -> None:
    place_fixture(tmp_path, scenario)
    [run_spec] = expand_run_entry(with_keys(entry, "model=simple/model1,max_eval_instances=2"))
    result = Runner.in_process(InProcessService(), tmp_path, "t").run_one(run_spec)
    assert result.num_failed_requests == 0 and result.num_requests > 0
    stats = _eval_stats(result.stats)
    for name in metrics:
        assert name in stats, f"{entry}: no {name} among {sorted(stats)}"
        assert all(0.0 <= stat.mean <= 1.0 for stat in stats[name])
    # Every evaluation instance (two, or the one valid instance of the natural_qa fixture) is scored.
    assert (
        sum(stat.count for stat in stats[metrics[0]]) == result.num_instances == (1 if scenario == "natural_qa" else 2)
    )
    assert result.output_dir is not None and (result.output_dir / "stats.json").is_file()


@pytest.mark.parametrize(("entry", "scenario", "metrics"), ENTRIES)
def test_entry_dry_run_on_davinci(tmp_path: Path, entry: str, scenario: str, metrics: list[str]) -> None:
    place_fixture(tmp_path, scenario)
    [run_spec] = expand_run_entry(with_keys(entry, "model=openai/davinci,max_eval_instances=2"))
    [result] = dry_run([run_spec], tmp_path)
    stats = {s.name.name: s for s in result.stats}
    assert stats["estimated_number_of_tokens"].sum > 0
    assert result.output_dir is None and not (tmp_path / "runs").exists()


@pytest.mark.parametrize("entry", ["mmlu:subject=anatomy", "boolq", "narrative_qa", "natural_qa", "quac"])
def test_benchmark_run_dry_run(tmp_path: Path, entry: str, capsys: pytest.CaptureFixture[str]) -> None:
    place_fixture(tmp_path, entry.split(":")[0])
    status = main(
        ["-r", with_keys(entry, "model=openai/davinci"), "--max-eval-instances", "2", "--dry-run", "-o", str(tmp_path)]
    )
    assert status == 0
    out = capsys.readouterr().out
    assert "openai/davinci_estimated_number_of_tokens[min=" in out and "estimated cost $" in out


def test_benchmark_run_offline_without_cache_says_where_to_put_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(_mmlu, "DATA_URL", "http://127.0.0.1:9/~hendrycks/data.tar")
    status = main(["-r", "mmlu:subject=anatomy,model=simple/model1", "-o", str(tmp_path)])
    assert status != 0
    captured = capsys.readouterr()
    message = captured.out + captured.err
    assert "http://127.0.0.1:9/~hendrycks/data.tar" in message
    assert str(tmp_path / "scenarios" / "mmlu" / "data") in message


def test_mmlu_spec_follows_helm() -> None:
    run_spec = RUN_SPEC_FUNCTIONS.get("mmlu")(subject="high_school_us_history")
    spec = run_spec.adapter_spec
    assert run_spec.name == "mmlu:method=multiple_choice_joint,subject=high_school_us_history"
    assert spec.method == "multiple_choice_joint"
    assert (
        spec.instructions == "The following are multiple choice questions (with answers) about high school us history."
    )
    assert (spec.input_prefix, spec.output_prefix, spec.max_train_instances) == ("Question: ", "Answer: ", 5)
    # HELM's get_multiple_choice_joint_adapter_spec: 5 completions of at most 5 tokens, greedy, stop at "\n"
    assert (spec.num_outputs, spec.max_tokens, spec.temperature, spec.stop_sequences) == (5, 5, 0.0, ("\n",))
    assert run_spec.scenario_spec.args == {"subject": "high_school_us_history"}
    separate = RUN_SPEC_FUNCTIONS.get("mmlu")(subject="anatomy", method="multiple_choice_separate_original")
    framing = separate.adapter_spec.model_dump(
        include={"instructions", "input_prefix", "input_suffix", "output_prefix"}
    )
    # HELM's get_multiple_choice_separate_adapter_spec: "<question> <choice>", zero-shot
    assert framing == {"instructions": "", "input_prefix": "", "input_suffix": "", "output_prefix": " "}
    assert (separate.adapter_spec.max_train_instances, separate.adapter_spec.max_tokens) == (0, 0)
    assert run_spec.groups == ("mmlu",)
    assert get_args(get_type_hints(RUN_SPEC_FUNCTIONS.get("mmlu"))["subject"]) == SUBJECTS


@pytest.mark.parametrize(
    ("entry", "kwargs", "name", "input_prefix", "max_tokens", "names"),
    [
        ("boolq", {}, "boolq", "Passage: ", 5, None),
        ("narrative_qa", {}, "narrative_qa", "Passage: ", 100, GENERATION),
        ("natural_qa", {}, "natural_qa:mode=closedbook", "Question: ", 300, F1),
        ("natural_qa", {"mode": "openbook_wiki"}, "natural_qa:mode=openbook_wiki", "", 300, F1),
        ("quac", {}, "quac", "", 100, F1),
    ],
)
def test_generation_specs(
    entry: str, kwargs: dict[str, Any], name: str, input_prefix: str, max_tokens: int, names: list[str] | None
) -> None:
    run_spec: RunSpec = RUN_SPEC_FUNCTIONS.get(entry)(**kwargs)
    spec = run_spec.adapter_spec
    assert run_spec.name == name
    assert (spec.method, spec.input_prefix, spec.output_prefix) == ("generation", input_prefix, "Answer: ")
    assert (spec.max_tokens, spec.max_train_instances, spec.stop_sequences) == (max_tokens, 5, ("\n",))
    if names is not None:
        assert run_spec.metric_specs[0].args == {"names": names}
    assert RunSpec.model_validate_json(run_spec.model_dump_json()) == run_spec


def test_natural_qa_modes_and_bad_arguments() -> None:
    assert get_args(get_type_hints(RUN_SPEC_FUNCTIONS.get("natural_qa"))["mode"]) == NQ_MODES
    with pytest.raises(ValueError, match="mode 'wiki' is not valid"):
        RUN_SPEC_FUNCTIONS.get("natural_qa")(mode="wiki")
    with pytest.raises(ValueError, match="subject 'astrology' is not valid"):
        RUN_SPEC_FUNCTIONS.get("mmlu")(subject="astrology")


def test_building_specs_downloads_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Expansion must be cheap and offline: a download attempt here would raise.
    def refuse(*args: object, **kwargs: object) -> Path:
        raise ScenarioDataError("a run spec tried to download")

    # every way a scenario downloads: directly, or through `downloaded_files` (boolq, natural_qa, quac)
    for module in ("_mmlu", "_narrative_qa", "_download"):
        monkeypatch.setattr(f"bench.scenarios.{module}.ensure_file_downloaded", refuse)
    for entry in ("mmlu", "boolq", "narrative_qa", "natural_qa", "quac"):
        assert expand_run_entry(f"{entry}:model=simple/model1")  # the bare name runs too
