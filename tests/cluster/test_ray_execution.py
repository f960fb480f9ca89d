"""The Runner with RayExecution on a local Ray: same stats as the in-process Runner, resume, --force, faults, S3.

A run here is simple1 on simple/model1 with 12 evaluation instances cut into 4 shards: big enough to have
several shards, small enough that a run takes a second or two once the session's Ray is up.
"""

from __future__ import annotations

import functools
import inspect
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from bench import ResumeError, Stat, StorageError
from bench.models import InProcessService
from bench.run_specs import RunSpec, expand_run_entry
from bench.runner import (
    PER_INSTANCE_STATS_PARQUET,
    REQUEST_STATES_PARQUET,
    FailurePolicy,
    RetryPolicy,
    Runner,
    RunResult,
    Storage,
    read_per_instance,
    read_request_states,
    run_path,
    stat_from_json,
)
from cluster import InProcessServiceFactory, RayExecution
from tests.cluster.fakes import ExitOnceFactory, FailingFactory, RecordingFactory, fails, recorded_prompts
from tests.s3_server import BUCKET, S3Server

pytestmark = pytest.mark.usefixtures("ray_cluster")

NUM_EVAL = 12
TIMING_STATS = {"inference_runtime"}
"""Wall-clock Stats: they differ between any two runs."""


@pytest.fixture(scope="module")
def spec() -> RunSpec:
    [run_spec] = expand_run_entry("simple1:model=simple/model1", default_max_eval_instances=NUM_EVAL)
    return run_spec


@pytest.fixture(scope="module")
def baseline(spec: RunSpec, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """The same RunSpec through bench's in-process Runner."""
    return Runner.in_process(InProcessService(), tmp_path_factory.mktemp("baseline"), "t").run_one(spec)


def figures(stats: list[Stat]) -> dict[str, tuple[Any, ...]]:
    """Every Stat's figures by printed name, timing Stats left out; compared with ==, so exactly."""
    return {
        str(s.name): (s.count, s.sum, s.sum_squared, s.min, s.max) for s in stats if s.name.name not in TIMING_STATS
    }


def run_dir(output: Path, spec: RunSpec) -> Path:
    return output / run_path("t", spec.name)


EXECUTION_OPTIONS = set(inspect.signature(RayExecution).parameters) - {"service_factory"}


def ray_runner(output: str | Path | Storage, factory: Any = None, **kwargs: Any) -> Runner:
    """A Runner on Ray (`RayExecution` with `factory`, the models in the tasks by default) writing to `output`, suite
    "t", 4 shards; `kwargs` go to the execution or the runner, whichever takes them."""
    kwargs.setdefault("num_shards", 4)
    options = {key: kwargs.pop(key) for key in list(kwargs) if key in EXECUTION_OPTIONS}
    execution = RayExecution(factory or InProcessServiceFactory(), **options)
    return Runner(execution, output, "t", **kwargs)


runner = ray_runner


def test_same_stats_and_results_as_the_in_process_runner(spec: RunSpec, baseline: RunResult, tmp_path: Path) -> None:
    result = runner(tmp_path).run_one(spec)
    assert isinstance(result, RunResult)
    assert (result.shards_run, result.shards_reused) == (4, 0)
    assert figures(result.stats) == figures(baseline.stats)  # bit-identical, not approximately equal
    assert {s.name.name for s in result.stats} >= {"exact_match", "request_failed", "inference_runtime"}
    assert (result.num_instances, result.num_requests, result.num_failed_requests) == (NUM_EVAL, NUM_EVAL, 0)

    folder, base = run_dir(tmp_path, spec), baseline.output_dir
    assert base is not None and result.output_dir == folder
    for name in ("run_spec.json", "scenario.json"):
        assert json.loads((folder / name).read_text()) == json.loads((base / name).read_text())
    stored = [stat_from_json(s) for s in json.loads((folder / "stats.json").read_text())]
    assert figures(stored) == figures(result.stats)
    # per-instance Stats and request states: the Runner's, in the Runner's order, nothing lost or doubled
    expected = read_per_instance(pq.read_table(base / PER_INSTANCE_STATS_PARQUET))
    got = read_per_instance(pq.read_table(folder / PER_INSTANCE_STATS_PARQUET))
    assert [(p.instance_id, [s.name.name for s in p.stats]) for p in got] == [
        (p.instance_id, [s.name.name for s in p.stats]) for p in expected
    ]
    states = read_request_states(pq.read_table(folder / REQUEST_STATES_PARQUET))
    base_states = read_request_states(pq.read_table(base / REQUEST_STATES_PARQUET))
    assert [(s.request.prompt, s.result.completions[0].text) for s in states if s.result] == [
        (s.request.prompt, s.result.completions[0].text) for s in base_states if s.result
    ]
    info = json.loads((folder / "run_info.json").read_text())
    assert (info["num_shards"], info["num_requests"], info["num_failed_requests"]) == (4, NUM_EVAL, 0)


def test_resume_runs_only_the_missing_shards(spec: RunSpec, tmp_path: Path) -> None:
    first = runner(tmp_path / "out", RecordingFactory(str(tmp_path / "log1"))).run_one(spec)
    assert len(recorded_prompts(tmp_path / "log1")) == NUM_EVAL
    shards = run_dir(tmp_path / "out", spec) / "shards"
    # an interrupted run: stats.json not written yet, and shard 00001 never finished
    (run_dir(tmp_path / "out", spec) / "stats.json").unlink()
    lost = read_request_states(pq.read_table(shards / "00001.request_states.parquet"))
    for name in ("00001.json", "00001.request_states.parquet", "00001.per_instance_stats.parquet"):
        (shards / name).unlink()

    log2 = tmp_path / "log2"
    progress: list[tuple[str, int] | int] = []

    def bar(description: str, total: int) -> Callable[[int], None]:
        progress.append((description, total))
        return progress.append

    resumed = runner(tmp_path / "out", RecordingFactory(str(log2)), progress=bar).run_one(spec)
    assert (resumed.shards_run, resumed.shards_reused) == (1, 3)
    # the bar counts evaluation instances (one request each here): it starts at the reused shards' and ends at all
    assert progress == [(spec.name, NUM_EVAL), NUM_EVAL - len(lost), len(lost)]
    assert sorted(recorded_prompts(log2)) == sorted(repr(s.request.prompt) for s in lost)
    assert figures(resumed.stats) == figures(first.stats)
    assert len(pq.read_table(run_dir(tmp_path / "out", spec) / PER_INSTANCE_STATS_PARQUET)) == NUM_EVAL


def test_several_train_trials_and_perturbations_give_the_in_process_runners_stats(tmp_path: Path) -> None:
    """Each task adapts its own instances (all their trials and perturbed copies); the driver folds the
    per-instance Stats trial by trial, as the Runner does, so even sums of floats are bit-identical."""
    [base] = expand_run_entry("simple1:model=simple/model1,data_augmentation=robustness", default_max_eval_instances=5)
    spec = base.model_copy(update={"adapter_spec": base.adapter_spec.model_copy(update={"num_train_trials": 3})})
    expected = Runner.in_process(InProcessService(), tmp_path / "baseline", "t").run_one(spec)
    result = runner(tmp_path / "out", num_shards=3).run_one(spec)
    assert result.shards_run == 3
    assert figures(result.stats) == figures(expected.stats)
    assert (result.num_instances, result.num_requests) == (expected.num_instances, expected.num_requests)
    assert result.num_requests > 3 * 5  # 3 trials of 5 instances and their perturbed copies
    base_dir = expected.output_dir
    assert base_dir is not None
    rows = read_per_instance(pq.read_table(run_dir(tmp_path / "out", spec) / PER_INSTANCE_STATS_PARQUET))
    baseline_rows = read_per_instance(pq.read_table(base_dir / PER_INSTANCE_STATS_PARQUET))
    key = lambda p: (p.train_trial_index, p.instance_id, str(p.perturbation))  # noqa: E731
    assert sorted(map(key, rows)) == sorted(map(key, baseline_rows))
    assert {p.train_trial_index for p in rows} == {0, 1, 2}


def test_resume_keeps_the_stored_plan_when_the_shard_size_changes(spec: RunSpec, tmp_path: Path) -> None:
    first = runner(tmp_path).run_one(spec)
    (run_dir(tmp_path, spec) / "stats.json").unlink()
    log = tmp_path / "log"
    log.mkdir()
    again = runner(tmp_path, RecordingFactory(str(log)), num_shards=None, shard_size=1).run_one(spec)
    assert (again.shards_run, again.shards_reused) == (0, 4)
    assert recorded_prompts(log) == []
    assert [s.model_dump() for s in again.stats] == [s.model_dump() for s in first.stats]  # timing included


def test_a_complete_run_is_skipped_and_force_recomputes_it(spec: RunSpec, tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.mkdir()
    first = runner(tmp_path / "out").run_one(spec)
    skipped = runner(tmp_path / "out", RecordingFactory(str(log))).run_one(spec)
    assert skipped.skipped and recorded_prompts(log) == []
    assert [s.model_dump() for s in skipped.stats] == [s.model_dump() for s in first.stats]

    forced = runner(tmp_path / "out", RecordingFactory(str(log)), force=True, num_shards=3).run_one(spec)
    assert not forced.skipped and (forced.shards_run, forced.shards_reused) == (3, 0)
    assert len(recorded_prompts(log)) == NUM_EVAL
    assert figures(forced.stats) == figures(first.stats)
    shard_files = sorted(p.name for p in (run_dir(tmp_path / "out", spec) / "shards").iterdir())
    assert len(shard_files) == 3 * 3 + 1  # the old 4-shard files are gone: 3 shards x 3 files + plan.json


def test_a_killed_worker_is_retried_and_nothing_is_lost_or_counted_twice(
    spec: RunSpec, baseline: RunResult, tmp_path: Path
) -> None:
    marker = tmp_path / "killed-once"
    result = runner(tmp_path / "out", ExitOnceFactory(str(marker)), num_shards=3).run_one(spec)
    assert marker.exists()  # a worker really died with os._exit in the middle of a shard
    assert figures(result.stats) == figures(baseline.stats)
    assert (result.num_requests, result.num_failed_requests) == (NUM_EVAL, 0)
    table = pq.read_table(run_dir(tmp_path / "out", spec) / PER_INSTANCE_STATS_PARQUET)
    assert sorted(table.column("instance_id").to_pylist()) == sorted({r.instance_id for r in read_per_instance(table)})


def test_provider_errors_are_recorded_and_counted_without_stopping_the_run(spec: RunSpec, tmp_path: Path) -> None:
    result = runner(tmp_path, FailingFactory()).run_one(spec)
    states = read_request_states(pq.read_table(run_dir(tmp_path, spec) / REQUEST_STATES_PARQUET))
    expected_failures = sum(1 for s in states if fails(s.request.prompt))
    assert 0 < expected_failures < NUM_EVAL  # the fake refuses some prompts, not all
    assert result.num_failed_requests == expected_failures
    failed = [s for s in states if s.result is not None and not s.result.success]
    assert len(failed) == expected_failures
    assert {s.result.error for s in failed if s.result} == {"provider error 503: overloaded"}
    [request_failed] = [s for s in result.stats if s.name.name == "request_failed" and s.name.split == "test"]
    assert (request_failed.count, request_failed.sum) == (NUM_EVAL, expected_failures)
    info = json.loads((run_dir(tmp_path, spec) / "run_info.json").read_text())
    assert info["num_failed_requests"] == expected_failures
    assert info["num_retriable_failed_requests"] == expected_failures and info["complete"] is False


def test_a_run_with_failed_requests_is_incomplete_and_a_rerun_runs_only_the_failed_shards(
    spec: RunSpec, baseline: RunResult, tmp_path: Path
) -> None:
    """The completeness rule (bench.runner._failures): the rerun runs only the shards with a failure, and in them
    sends only the failed requests (the others are read back from the shard's stored attempt)."""
    first = runner(tmp_path / "out", FailingFactory()).run_one(spec)
    folder = run_dir(tmp_path / "out", spec)
    assert first.incomplete is not None and f"{first.num_failed_requests} of {NUM_EVAL} requests failed" in (
        first.incomplete
    )
    assert not (folder / "stats.json").exists()  # never marked complete
    assert json.loads((folder / "error.json").read_text())["incomplete"] is True
    summaries = [json.loads(p.read_text()) for p in sorted((folder / "shards").glob("0*.json"))]
    failing = [s for s in summaries if s["num_retriable_failed_requests"]]
    assert 0 < len(failing) < len(summaries)  # some shards are clean, some are not
    # what failed in the failing shards: the rerun sends exactly these, nothing they answered, nothing of the others
    stored = [
        state
        for summary in failing
        for state in read_request_states(
            pq.read_table(folder / "shards" / f"{summary['shard_id']}.request_states.parquet")
        )
    ]
    failing_prompts = sorted(repr(s.request.prompt) for s in stored if s.result is None or not s.result.success)
    assert 0 < len(failing_prompts) < len(stored)

    log = tmp_path / "log"
    second = runner(tmp_path / "out", RecordingFactory(str(log))).run_one(spec)
    assert (second.shards_run, second.shards_reused) == (len(failing), len(summaries) - len(failing))
    assert sorted(recorded_prompts(log)) == failing_prompts
    assert second.incomplete is None and second.num_failed_requests == 0
    assert (folder / "stats.json").exists() and not (folder / "error.json").exists()
    assert figures(second.stats) == figures(baseline.stats)  # the same as a clean run, bit for bit


def test_an_allowed_failed_fraction_completes_the_run(spec: RunSpec, tmp_path: Path) -> None:
    result = runner(tmp_path, FailingFactory(), failure_policy=FailurePolicy(0.9)).run_one(spec)
    assert result.incomplete is None and result.num_failed_requests > 0
    assert (run_dir(tmp_path, spec) / "stats.json").exists()
    stats = {str(s.name): s for s in result.stats}
    assert stats["exact_match_all(split=test)"].count == NUM_EVAL
    assert stats["exact_match(split=test)"].count == NUM_EVAL - result.num_failed_requests


def test_a_storage_error_fails_the_run_clearly_and_keeps_finished_shards(
    spec: RunSpec, baseline: RunResult, tmp_path: Path
) -> None:
    shards = run_dir(tmp_path, spec) / "shards"
    (shards / "00002.json").mkdir(parents=True)  # shard 00002 cannot write its summary there
    with pytest.raises(StorageError) as info:
        runner(
            Storage(str(tmp_path), retry_policy=RetryPolicy(initial_backoff=0.01, max_seconds=0.1)), max_in_flight=1
        ).run_one(spec)
    message = str(info.value)
    assert message.startswith(f"storage: cannot write {shards}/00002.json: ")
    assert message.endswith(f"shards finished so far are kept in {run_dir(tmp_path, spec)}, rerun to resume")
    assert (shards / "00000.json").is_file() and (shards / "00001.json").is_file()
    assert not (shards / "00003.json").exists() and not (run_dir(tmp_path, spec) / "stats.json").exists()

    shutil.rmtree(shards / "00002.json")
    resumed = runner(tmp_path).run_one(spec)
    assert (resumed.shards_run, resumed.shards_reused) == (2, 2)
    assert figures(resumed.stats) == figures(baseline.stats)


def test_shards_of_other_request_states_are_not_reused(spec: RunSpec, tmp_path: Path) -> None:
    runner(tmp_path).run_one(spec)
    folder = run_dir(tmp_path, spec)
    (folder / "stats.json").unlink()
    plan = json.loads((folder / "shards/plan.json").read_text())
    (folder / "shards/plan.json").write_text(json.dumps({**plan, "fingerprint": "0" * 64}))
    with pytest.raises(ResumeError, match=r"cannot resume from .*/shards: its shards were made from other request "):
        runner(tmp_path).run_one(spec)
    assert runner(tmp_path, force=True).run_one(spec).shards_run == 4


def test_a_plan_of_an_older_layout_is_not_resumed(spec: RunSpec, tmp_path: Path) -> None:
    """Plans used to cut request states (with their count per shard); such shards cannot be reused."""
    plan_path = run_dir(tmp_path, spec) / "shards/plan.json"
    plan_path.parent.mkdir(parents=True)
    old = {
        "fingerprint": "0" * 64,
        "num_groups": 12,
        "shards": [{"shard_id": "00000", "start": 0, "end": 12, "num_requests": 12}],
    }
    plan_path.write_text(json.dumps(old))
    with pytest.raises(ResumeError, match=r"cannot resume from .*/shards: its plan.json is not a shard plan of this"):
        runner(tmp_path).run_one(spec)
    assert runner(tmp_path, force=True).run_one(spec).shards_run == 4


def test_a_run_on_s3_round_trips(spec: RunSpec, baseline: RunResult, s3_env: S3Server) -> None:
    result = runner(f"s3://{BUCKET}/bench", runtime_env={"env_vars": s3_env.env}).run_one(spec)
    assert result.output_dir is None and result.output_uri == f"s3://{BUCKET}/bench/{run_path('t', spec.name)}"
    assert figures(result.stats) == figures(baseline.stats)
    folder = s3_env.root / BUCKET / "bench" / run_path("t", spec.name)
    assert {p.name for p in folder.iterdir()} >= {
        "run_spec.json",
        "scenario.json",
        "stats.json",
        "run_info.json",
        PER_INSTANCE_STATS_PARQUET,
        REQUEST_STATES_PARQUET,
        "shards",
    }
    assert len(pq.read_table(folder / REQUEST_STATES_PARQUET)) == NUM_EVAL
    again = runner(f"s3://{BUCKET}/bench").run_one(spec)  # complete: read back from S3, not rerun
    assert again.skipped and figures(again.stats) == figures(result.stats)


def test_a_missing_bucket_is_reported_before_any_request(spec: RunSpec, s3_env: S3Server, tmp_path: Path) -> None:
    log = tmp_path / "log"
    log.mkdir()
    with pytest.raises(StorageError, match="bucket 'no-such-bucket' does not exist"):
        runner("s3://no-such-bucket/x", RecordingFactory(str(log))).run_all([spec])
    assert recorded_prompts(log) == []


def test_toxicity_is_scored_inside_the_tasks(tmp_path: Path) -> None:
    """The toxicity service is built in each task's process from a picklable factory (here: a fake Perspective)."""
    from bench.metrics import PerspectiveToxicityService
    from tests.bench.metrics.fake_perspective import FakePerspective

    fixture = Path(__file__).parents[1] / "fixtures" / "real_toxicity_prompts" / "realtoxicityprompts-data"
    shutil.copytree(fixture, tmp_path / "scenarios" / "real_toxicity_prompts" / "data")
    [rtp] = expand_run_entry("real_toxicity_prompts:model=simple/model1,num_outputs=2")
    with FakePerspective("k") as server:
        factory = functools.partial(PerspectiveToxicityService, "k", api_endpoint=server.url)
        result = runner(tmp_path, toxicity_factory=factory, scenario_cache=tmp_path).run_one(rtp)
    by_slice = {(s.name.name, s.name.sub_split): s for s in result.stats if s.name.perturbation is None}
    assert {("expected_max_toxicity", "toxic"), ("toxic_fraction", "non-toxic")} <= set(by_slice)
    assert by_slice[("toxicity_unscored", None)].sum == 0
