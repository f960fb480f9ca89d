"""benchmark-run end to end: real files on disk, the summary, the dry run, and one-line errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from bench import Instance, ScenarioDataError, ScenarioSpec
from bench.run_specs import RunSpec, exact_match_metric_specs, generation_adapter_spec, run_spec_function
from bench.runner import read_request_states
from bench.scenarios import Scenario, scenario
from jobs.benchmark_run import main
from tests.jobs.time_line import assert_timings_add_up

REPO = Path(__file__).parents[2]
CONF = str(REPO / "configs" / "run_specs.conf")
pytestmark = pytest.mark.usefixtures("restore_registries", "proxy_env")  # main() registers the proxy's clients

RUN_FILES = {"run_spec.json", "scenario.json", "stats.json", "per_instance_stats.parquet", "request_states.parquet"}
"""What every run writes, on Ray or `--in-process` (DESIGN.md); `--helm-json` adds HELM's scenario_state.json and
per_instance_stats.json."""


def _stats(run_dir: Path) -> dict[tuple[str, str | None, str | None], dict]:
    stats = json.loads((run_dir / "stats.json").read_text())
    return {
        (s["name"]["name"], s["name"].get("split"), (s["name"].get("perturbation") or {}).get("name")): s for s in stats
    }


def test_demo_suite_on_simple_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["-c", CONF, "--suite", "demo", "-m", "simple/model1", "--max-eval-instances", "6",
                   "-o", str(tmp_path)])  # fmt: skip
    assert status == 0
    runs = sorted(p.name for p in (tmp_path / "runs" / "demo").iterdir())
    assert len(runs) == 5 and all(r.endswith("model=simple_model1") for r in runs)
    for run in runs:
        run_dir = tmp_path / "runs" / "demo" / run
        assert {p.name for p in run_dir.iterdir()} >= RUN_FILES
        states = read_request_states(pq.read_table(run_dir / "request_states.parquet"))
        assert len(states) == 6
        assert all(s.result is not None and s.result.success for s in states)
    out = capsys.readouterr().out
    assert "Mercury run summary" in out and "exact_match=" in out
    assert f"Results are in {tmp_path}/runs/demo/" in out
    assert_timings_add_up(out)  # where the time went: the command, then each of its five runs
    assert len([line for line in out.splitlines() if re.match(r"  \S+model=simple_model1: start-up 0.00s", line)]) == 5


def test_stats_agree_with_the_per_instance_stats_exported_as_helm_json(tmp_path: Path) -> None:
    args = ["-r", "simple1:model=simple/model1", "--max-eval-instances", "12", "--in-process", "--helm-json"]
    assert main([*args, "-o", str(tmp_path)]) == 0
    run_dir = tmp_path / "runs" / "default" / "simple1:model=simple_model1"
    assert {p.name for p in run_dir.iterdir()} >= RUN_FILES | {"scenario_state.json", "per_instance_stats.json"}
    state = json.loads((run_dir / "scenario_state.json").read_text())
    stored = read_request_states(pq.read_table(run_dir / "request_states.parquet"))
    assert state["request_states"] == [s.model_dump(mode="json", exclude_none=True) for s in stored]
    assert state["adapter_spec"]["model"] == "simple/model1"
    per_instance = json.loads((run_dir / "per_instance_stats.json").read_text())
    values = [s["sum"] for item in per_instance for s in item["stats"] if s["name"]["name"] == "exact_match"]
    exact_match = _stats(run_dir)[("exact_match", "test", None)]
    assert exact_match["count"] == len(values) == 12
    assert exact_match["mean"] == pytest.approx(sum(values) / 12)
    run_spec = json.loads((run_dir / "run_spec.json").read_text())
    assert run_spec["adapter_spec"]["model"] == "simple/model1"


def test_perturbations_are_reported_per_perturbation(tmp_path: Path) -> None:
    entry = "simple1:model=simple/model1,data_augmentation=extra_space"
    assert main(["-r", entry, "--max-eval-instances", "5", "-o", str(tmp_path)]) == 0
    [run_dir] = (tmp_path / "runs" / "default").iterdir()
    stats = _stats(run_dir)
    assert stats[("exact_match", "test", None)]["count"] == 5
    assert stats[("exact_match", "test", "extra_space")]["count"] == 5


def test_dry_run_prints_tokens_and_cost_and_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["-r", "lpm:difficulty=easy,model=openai/davinci", "--max-eval-instances", "10", "--dry-run",
                   "-o", str(tmp_path)])  # fmt: skip
    assert status == 0
    out = capsys.readouterr().out
    assert "openai/davinci_estimated_number_of_tokens[min=" in out and "(10)]" in out
    assert "estimated cost $" in out
    assert not (tmp_path / "runs").exists()


def test_dry_run_of_a_model_without_prices_shows_no_cost(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["-r", "simple1:model=simple/model1", "--max-eval-instances", "5", "--dry-run", "-o", str(tmp_path)])
    assert status == 0
    out = capsys.readouterr().out
    assert "estimated cost - (no prices listed" in out and "$0.0000" not in out


@pytest.mark.parametrize("mode", [[], ["--in-process"]], ids=["ray", "in-process"])
def test_finished_runs_are_reused_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], mode: list[str]
) -> None:
    args = ["-r", "dyck_language:model=simple/model1", "--max-eval-instances", "3", "-o", str(tmp_path), *mode]
    assert main(args) == 0
    stats_file = next((tmp_path / "runs" / "default").iterdir()) / "stats.json"
    before = stats_file.stat().st_mtime_ns
    assert main(args) == 0
    assert stats_file.stat().st_mtime_ns == before
    assert "cached" in capsys.readouterr().out
    assert main([*args, "--force"]) == 0
    assert stats_file.stat().st_mtime_ns != before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-r", "simple1:model=nope/model"], "unknown model or model group 'nope/model'"),
        (["-r", "lpm:difficulty=extreme", "-m", "simple/model1"], "argument difficulty='extreme'"),
        (["-r", "simple1:model=openai/gpt-4o-mini"], "missing credential 'openaiApiKey'"),
        (["-c", "absent.conf"], "absent.conf: file not found"),
        (["-c", CONF, "--suite", "nope"], "no suite 'nope'"),
    ],
)
def test_user_errors_print_one_line_and_exit_2(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # no prod_env/credentials.conf here
    assert main([*args, "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("benchmark-run: error: ") and message in err[-1]
    assert not any("Traceback" in line for line in err)
    assert not (tmp_path / "runs").exists()


def test_console_script_help() -> None:
    script = Path(sys.executable).parent / "benchmark-run"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    assert "run entry" in result.stdout and "--dry-run" in result.stdout


@pytest.mark.slow
def test_small_run_on_the_local_model(tmp_path: Path) -> None:
    assert main(["-r", "simple1:model=local/smollm2-135m", "--max-eval-instances", "3", "-o", str(tmp_path)]) == 0
    run_dir = tmp_path / "runs" / "default" / "simple1:model=local_smollm2-135m"
    states = read_request_states(pq.read_table(run_dir / "request_states.parquet"))
    completions = [s.result.completions[0] for s in states if s.result is not None]
    assert len(completions) == 3
    assert all(c.tokens and all(t.logprob <= 0 for t in c.tokens) for c in completions)
    assert ("exact_match", "test", None) in _stats(run_dir)


def test_openai_compatible_server_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A model on any OpenAI-compatible server (vLLM, llama.cpp) is one YAML entry away; the real `openai` library
    talks to a fake server on loopback."""
    from tests.serve.fake_openai import FakeOpenAI, fake_model_configs

    with FakeOpenAI() as server:
        monkeypatch.setenv("MERCURY_CONFIG_DIR", str(fake_model_configs(tmp_path, server.base_url)))
        args = ["-r", "lpm:model=vllm/fake-model", "--max-eval-instances", "3", "-o", str(tmp_path / "out")]
        status = main([*args, "--in-process"])  # the fake server's config lives in this process's environment
        assert status == 0
        assert len([r for r in server.requests if r.path == "/v1/completions"]) == 3
    run_dir = tmp_path / "out" / "runs" / "default" / "lpm:model=vllm_fake-model"
    states = read_request_states(pq.read_table(run_dir / "request_states.parquet"))
    texts = [s.result.completions[0].text for s in states if s.result is not None]
    # the fake repeats " Paris is the capital." up to max_tokens (lpm's prompt asks for a short answer, no newline)
    assert len(texts) == 3 and all(t.startswith(" Paris is the capital.") for t in texts)
    assert "lpm:model=vllm_fake-model" in capsys.readouterr().out


def test_a_failing_run_is_recorded_and_the_others_finish(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    @scenario("test_offline_data")
    class OfflineData(Scenario):
        def get_instances(self, output_path: str) -> list[Instance]:
            raise ScenarioDataError("cannot download http://example.invalid/data.csv; place it at X by hand")

    @run_spec_function("test_offline_data")
    def offline_spec() -> RunSpec:
        return RunSpec(
            name="test_offline_data",
            scenario_spec=ScenarioSpec(name="test_offline_data"),
            adapter_spec=generation_adapter_spec(),
            metric_specs=tuple(exact_match_metric_specs()),
        )

    args = ["-r", "test_offline_data", "-r", "simple1", "-m", "simple/model1", "--max-eval-instances", "3"]
    assert main([*args, "-o", str(tmp_path)]) == 1
    suite = tmp_path / "runs" / "default"
    error = json.loads((suite / "test_offline_data:model=simple_model1" / "error.json").read_text())
    assert "place it at X by hand" in error["error"]
    assert (suite / "simple1:model=simple_model1" / "stats.json").exists()
    captured = capsys.readouterr()
    assert "failed:" in captured.out
    assert "run test_offline_data:model=simple_model1 failed: cannot download" in captured.err


def test_failed_requests_leave_the_run_incomplete_until_a_rerun_retries_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A provider that answers 503 to some requests: exit 1, no stats.json, the failed counts in the summary; the
    rerun sends only the failed requests and equals a clean run; an allowed fraction completes and says so."""
    from tests.serve.fake_openai import FakeOpenAI, Fault, fake_model_configs

    with FakeOpenAI() as server:
        # the client's own retries would absorb the faults
        configs = fake_model_configs(tmp_path, server.base_url, "    serving: {retry: {max_attempts: 1}}\n")
        monkeypatch.setenv("MERCURY_CONFIG_DIR", str(configs))
        args = ["-r", "lpm:model=vllm/fake-model", "--max-eval-instances", "4", "--in-process", "-n", "1"]
        run_dir = tmp_path / "out" / "runs" / "default" / "lpm:model=vllm_fake-model"

        assert main([*args, "-o", str(tmp_path / "clean")]) == 0  # the reference: no fault
        capsys.readouterr()
        sent = len(server.requests)

        server.fail_next(Fault(status=503, message="overloaded"), Fault(status=503, message="overloaded"))
        assert main([*args, "-o", str(tmp_path / "out")]) == 1
        out, err = capsys.readouterr()
        assert len(server.requests) - sent == 4
        assert not (run_dir / "stats.json").exists()
        assert "run lpm:model=vllm_fake-model is incomplete: 2 of 4 requests failed (50.0%" in err
        assert "rerun the same command to retry the 2 retriable ones" in err
        # next to each figure of the summary (the 4 instances span the test and valid splits)
        assert re.search(r"exact_match=\d\.\d{3} ±\d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\] \(\d; \d failed\)", out)
        assert re.search(r"exact_match_all=.*\(\d, failed as 0\)", out)

        sent = len(server.requests)
        assert main([*args, "-o", str(tmp_path / "out")]) == 0  # the fault is gone
        assert len(server.requests) - sent == 2  # only the failed requests were sent again
        clean = _stats(tmp_path / "clean" / "runs" / "default" / "lpm:model=vllm_fake-model")
        resumed = _stats(run_dir)
        assert resumed.keys() == clean.keys()
        for key, stat in clean.items():
            if key[0] != "inference_runtime":  # wall-clock time differs between any two runs
                assert resumed[key] == stat, key
        capsys.readouterr()

        server.fail_next(Fault(status=503, message="overloaded"))
        allowed = [*args, "-o", str(tmp_path / "allowed"), "--max-failed-fraction", "0.3"]
        assert main(allowed) == 0
        out, err = capsys.readouterr()
        assert "is complete with 1 of 4 requests failed (25.0%, within --max-failed-fraction 0.3)" in err
        allowed_dir = tmp_path / "allowed" / "runs" / "default" / "lpm:model=vllm_fake-model"
        stats = _stats(allowed_dir)
        splits = [split for name, split, _ in stats if name == "request_failed"]
        assert sum(stats[("request_failed", split, None)]["sum"] for split in splits) == 1
        for split in splits:  # a failed instance counts as 0 in exact_match_all, and not at all in exact_match
            failed = stats[("request_failed", split, None)]["sum"]
            # (a split whose every instance failed has no exact_match, yet its exact_match_all is 0 over them)
            answered = stats.get(("exact_match", split, None), {"count": 0})["count"]
            assert stats[("exact_match_all", split, None)]["count"] == answered + failed


def test_max_failed_fraction_must_be_a_fraction(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["-r", "simple1", "--max-failed-fraction", "1.5"])
    assert exit_info.value.code == 2
    assert "argument --max-failed-fraction: '1.5' must be a fraction between 0 and 1" in capsys.readouterr().err
