"""The original README's examples run as written: `benchmark-run` alone, and each `-r ENTRY` with and without
`--dry-run`, with no model named (the original default: openai/davinci; simple1 runs on simple/model1).

This machine is offline and has no OpenAI key, so what "runs" means is what a user without them sees: without
`--dry-run`, the one line naming the missing credential, before any request; with `--dry-run`, davinci's token
estimate where the scenario's data is in place (fixtures in the upstream format), else the one line naming the
URL and where to put the file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jobs.benchmark_run import main

FIXTURES = Path(__file__).parents[1] / "fixtures"
pytestmark = pytest.mark.usefixtures("restore_registries", "proxy_env")

ORIGINAL_ENTRIES = [
    "mmlu:subject=philosophy",
    "lpm:difficulty=easy",
    "twitter_aae:demographic=aa",
    "copyright:pilot_study=true",
    "the_pile:subset=OpenSubtitles",
    "wiki:subject=P31",
    "raft:subset=ade_corpus_v2",
    "natural_qa:mode=closedbook",
    "quac",
]

DATA_IN_PLACE = {"twitter_aae": "twitter_aae", "copyright": "copyright", "raft": "raft", "quac": "quac"}
"""Scenarios whose fixture holds the example's data, by the scenario cache folder it is copied into."""


@pytest.fixture
def no_openai_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # ./prod_env and ./benchmark_output, as the original examples use them


@pytest.mark.parametrize("entry", ORIGINAL_ENTRIES)
def test_without_dry_run_a_missing_key_is_one_line_before_any_request(
    entry: str, no_openai_key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["-r", entry]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("benchmark-run: error: openai/davinci: unavailable: missing credential 'openaiApiKey'")
    assert not (tmp_path / "benchmark_output" / "runs").exists()


@pytest.mark.parametrize("entry", ORIGINAL_ENTRIES)
def test_dry_run_estimates_davinci_or_names_the_missing_data(
    entry: str, no_openai_key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = entry.partition(":")[0]
    generated = name == "lpm"
    if name in DATA_IN_PLACE:
        shutil.copytree(FIXTURES / name, tmp_path / "benchmark_output" / "scenarios" / DATA_IN_PLACE[name])
    status = main(["-r", entry, "--dry-run"])
    captured = capsys.readouterr()
    if generated or name in DATA_IN_PLACE:
        assert status == 0, captured.err
        assert "openai/davinci_estimated_number_of_tokens[min=" in captured.out
        assert "openai/davinci: " in captured.out and "estimated cost $" in captured.out
    else:  # offline, no data: the URL and the path to place the file at, in one line
        assert status == 2
        line = captured.err.strip().splitlines()[-1]
        assert line.startswith("benchmark-run: error: cannot download http")
        assert f"place the file at benchmark_output/scenarios/{name}" in line  # relative, as -o is
    assert not (tmp_path / "benchmark_output" / "runs").exists()


def test_benchmark_run_alone_runs_simple1_on_the_simple_model(
    no_openai_key: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--max-eval-instances", "5"]) == 0
    run_dir = tmp_path / "benchmark_output" / "runs" / "default" / "simple1:model=simple_model1"
    assert (run_dir / "stats.json").is_file()
    assert "exact_match=" in capsys.readouterr().out


def test_benchmark_run_alone_dry_run(no_openai_key: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--dry-run"]) == 0
    assert "simple/model1_estimated_number_of_tokens[min=" in capsys.readouterr().out
