"""The Runner end to end on simple/model1: every adaptation method, its metrics, files, reproducibility."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bench import CORRECT_TAG, Instance, Reference, ScenarioSpec, Stat
from bench.adaptation import AdapterSpec
from bench.models import InProcessService
from bench.run_specs import RunSpec, expand_run_entry, language_modeling_metric_specs, multiple_choice_metric_specs
from bench.runner import PER_INSTANCE_STATS_PARQUET, STATS_FILE, Runner, read_per_instance, run_path
from bench.scenarios import Scenario, scenario
from tests.s3_server import BUCKET, S3Server

CAPITALS = [("France", "Paris"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Japan", "Tokyo"), ("Peru", "Lima")]


@pytest.fixture
def capitals(restore_registries: None) -> str:
    """A small multiple-choice scenario registered for one test."""

    @scenario("test_capitals")
    class Capitals(Scenario):
        name = "test_capitals"

        def get_instances(self, output_path: str) -> list[Instance]:
            cities = [city for _, city in CAPITALS]
            return [
                Instance(
                    input=f"What is the capital of {country}?",
                    references=tuple(Reference(output=c, tags=(CORRECT_TAG,) if c == city else ()) for c in cities),
                    split="train" if k == 0 else "test",
                )
                for k, (country, city) in enumerate(CAPITALS)
            ]

    return "test_capitals"


def _run(tmp_path: Path, name: str, method: str, metric_specs: list, model: str = "simple/model1") -> list[Stat]:
    spec = AdapterSpec(
        method=method, model=model, max_train_instances=1, max_tokens=1 if method.endswith("joint") else 0
    )
    run_spec = RunSpec(
        name=f"{name}:method={method}",
        scenario_spec=ScenarioSpec(name=name),
        adapter_spec=spec,
        metric_specs=tuple(metric_specs),
    )
    return Runner.in_process(InProcessService(), tmp_path, "t").run_one(run_spec).stats


def _by_name(stats: list[Stat]) -> dict[str, Stat]:
    return {s.name.name: s for s in stats if s.name.split == "test" and s.name.perturbation is None}


@pytest.mark.parametrize(
    "method",
    ["multiple_choice_joint", "multiple_choice_separate_original", "multiple_choice_separate_calibrated"],
)
def test_multiple_choice_methods_report_accuracy_and_calibration(tmp_path: Path, capitals: str, method: str) -> None:
    stats = _by_name(_run(tmp_path, capitals, method, multiple_choice_metric_specs()))
    assert stats["exact_match"].count == 4
    assert 0.0 <= stats["exact_match"].mean <= 1.0  # type: ignore[operator]
    assert stats["ece_10_bin"].count == 1 and 0.0 <= stats["ece_10_bin"].sum <= 1.0
    assert stats["request_failed"].sum == 0


def test_language_modeling_reports_perplexity_and_bits_per_byte(tmp_path: Path, capitals: str) -> None:
    stats = _by_name(_run(tmp_path, capitals, "language_modeling", language_modeling_metric_specs()))
    logprob, tokens, nbytes = stats["logprob"].sum, stats["num_tokens"].sum, stats["num_bytes"].sum
    assert tokens > 0 and logprob < 0
    assert stats["perplexity"].sum == pytest.approx(2.718281828 ** (-logprob / tokens))
    assert stats["bits_per_byte"].sum == pytest.approx(-logprob / (nbytes * 0.6931471805599453))


def test_a_run_is_reproducible_from_its_run_spec(tmp_path: Path, capitals: str) -> None:
    first = _run(tmp_path / "a", capitals, "multiple_choice_joint", multiple_choice_metric_specs())
    second = _run(tmp_path / "b", capitals, "multiple_choice_joint", multiple_choice_metric_specs())
    timing = {"inference_runtime"}
    assert [s.model_dump() for s in first if s.name.name not in timing] == [
        s.model_dump() for s in second if s.name.name not in timing
    ]
    stats_a = json.loads(next((tmp_path / "a").rglob(STATS_FILE)).read_text())
    assert {s["name"]["name"] for s in stats_a} >= {"exact_match", "ece_10_bin"}


@pytest.mark.slow
def test_local_model_scores_choices_and_text(tmp_path: Path, capitals: str) -> None:
    stats = _by_name(
        _run(
            tmp_path,
            capitals,
            "multiple_choice_separate_original",
            multiple_choice_metric_specs(),
            "local/smollm2-135m",
        )
    )
    # the quantized 135M model is weak, but it picks Rome for Italy by a wide margin (-4.5 vs -8 and below)
    assert stats["exact_match"].count == 4 and stats["exact_match"].sum >= 1
    lm = _by_name(_run(tmp_path, capitals, "language_modeling", language_modeling_metric_specs(), "local/smollm2-135m"))
    assert 1.0 < lm["perplexity"].sum < 10_000


def _figures(stats: list[Stat]) -> list[tuple[str, int, float, float, float, float]]:
    return [
        (str(s.name), s.count, s.sum, s.sum_squared, s.min, s.max) for s in stats if s.name.name != "inference_runtime"
    ]


def test_how_a_run_is_cut_into_shards_changes_no_figure_and_no_row(tmp_path: Path) -> None:
    """One pipeline: the Stats are folded from the stored per-instance rows in run order, so one shard or seven give
    the same figures to the last bit and the same tables."""
    [spec] = expand_run_entry(
        "simple1:model=simple/model1,data_augmentation=extra_space", default_max_eval_instances=20
    )
    one = Runner.in_process(InProcessService(), tmp_path / "one", "t", num_shards=1).run_one(spec)
    many = Runner.in_process(InProcessService(), tmp_path / "many", "t", num_shards=7).run_one(spec)
    assert (one.shards_run, many.shards_run) == (1, 7)
    assert _figures(one.stats) == _figures(many.stats)
    tables = [read_per_instance(pq.read_table(r.output_dir / PER_INSTANCE_STATS_PARQUET)) for r in (one, many)]
    assert [(p.instance_id, str(p.perturbation), p.stats[0].sum) for p in tables[0]] == [
        (p.instance_id, str(p.perturbation), p.stats[0].sum) for p in tables[1]
    ]


def test_an_in_process_run_writes_to_s3_as_a_run_on_ray_does(tmp_path: Path, s3_env: S3Server) -> None:
    [spec] = expand_run_entry("simple1:model=simple/model1", default_max_eval_instances=6)
    local = Runner.in_process(InProcessService(), tmp_path, "t").run_one(spec)
    remote = Runner.in_process(InProcessService(), f"s3://{BUCKET}/in-process", "t").run_one(spec)
    assert remote.output_dir is None and remote.output_uri == f"s3://{BUCKET}/in-process/{run_path('t', spec.name)}"
    folder = s3_env.root / BUCKET / "in-process" / run_path("t", spec.name)
    assert {p.name for p in folder.iterdir()} >= {"stats.json", "request_states.parquet", "per_instance_stats.parquet"}
    assert _figures(remote.stats) == _figures(local.stats)
    again = Runner.in_process(InProcessService(), f"s3://{BUCKET}/in-process", "t").run_one(spec)
    assert again.skipped and _figures(again.stats) == _figures(local.stats)
