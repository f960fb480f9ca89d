"""twitter_aae on fixtures in the layout of HELM's {aa,white}_tweets.csv: parsing, errors, runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import ScenarioDataError
from bench.models import InProcessService
from bench.run_specs import RUN_SPEC_FUNCTIONS
from bench.runner import Runner
from bench.scenarios import create_scenario
from jobs.benchmark_run import main

FIXTURE = Path(__file__).parents[2] / "fixtures" / "twitter_aae"


def _cache(tmp_path: Path) -> Path:
    cache = tmp_path / "scenarios" / "twitter_aae"
    shutil.copytree(FIXTURE, cache)
    return cache


def test_one_instance_per_tweet(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    aa = create_scenario("twitter_aae", {}).get_instances(str(cache))
    assert [i.input for i in aa] == [
        "on my way to the game rn",
        'she said "wassup", i said nothing',  # CSV quoting undone
        "we finna eat good tonight",
    ]
    assert all(i.split == "test" and not i.references for i in aa)
    white = create_scenario("twitter_aae", {"demographic": "white"}).get_instances(str(cache))
    assert [i.input for i in white] == ["Cannot wait for the weekend", "Coffee, then emails, then more coffee"]


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="demographic 'latinx' is not valid; choose one of: aa, white"):
        create_scenario("twitter_aae", {"demographic": "latinx"})
    url = "http://127.0.0.1:9/bundle/{demographic}_tweets.csv"
    with pytest.raises(ScenarioDataError) as error:
        create_scenario("twitter_aae", {"demographic": "white", "source_url": url}).get_instances(str(tmp_path))
    assert "http://127.0.0.1:9/bundle/white_tweets.csv" in str(error.value)
    assert str(tmp_path / "white_tweets.csv") in str(error.value)


@pytest.mark.parametrize("demographic", ["aa", "white"])
def test_runs_end_to_end_on_simple_model(tmp_path: Path, demographic: str) -> None:
    _cache(tmp_path)
    run_spec = RUN_SPEC_FUNCTIONS.get("twitter_aae")(demographic=demographic)
    assert run_spec.groups == ("twitter_aae", f"twitter_aae_{demographic}")
    stats = {
        (s.name.name, s.name.split): s
        for s in Runner.in_process(InProcessService(), tmp_path, "t").run_one(run_spec).stats
    }
    assert stats[("logprob", "test")].count == (3 if demographic == "aa" else 2)
    assert stats[("bits_per_byte", "test")].sum > 0


def test_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _cache(tmp_path)
    assert main(["-r", "twitter_aae:model=openai/davinci", "--dry-run", "-o", str(tmp_path)]) == 0
    assert "openai/davinci_estimated_number_of_tokens[min=" in capsys.readouterr().out
