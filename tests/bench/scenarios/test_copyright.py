"""copyright on a fixture in the layout of HELM's data files ({"meta_data", "data": {prefix: text}}): runs too."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import ScenarioDataError
from bench.models import InProcessService
from bench.run_specs import RUN_SPEC_FUNCTIONS
from bench.runner import Runner
from bench.scenarios import create_scenario
from jobs.benchmark_run import main

FIXTURE = Path(__file__).parents[2] / "fixtures" / "copyright"


def _cache(tmp_path: Path) -> Path:
    cache = tmp_path / "scenarios" / "copyright"
    shutil.copytree(FIXTURE, cache)
    return cache


def test_prefix_is_the_input_and_the_rest_the_reference(tmp_path: Path) -> None:
    first, second = create_scenario("copyright", {}).get_instances(str(_cache(tmp_path)))
    assert first.input == "It was a bright cold day in April, and"
    assert [(r.output, r.is_correct) for r in first.references] == [
        (" the clocks were striking thirteen. Winston hurried home.", True)
    ]
    assert second.references[0].output == " one last time before the storm.\nThe lamp was already lit."
    assert first.split == second.split == "test"


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="datatag 'novels' is not valid; choose one of: pilot"):
        create_scenario("copyright", {"datatag": "novels"})
    cache = _cache(tmp_path)
    (cache / "pilot.json").write_text(json.dumps({"meta_data": {}, "texts": []}))
    with pytest.raises(ScenarioDataError, match=r'pilot\.json: expected an object with a "data" object'):
        create_scenario("copyright", {}).get_instances(str(cache))


def test_offline_without_cache_names_the_url_and_the_path(tmp_path: Path) -> None:
    scenario = create_scenario(
        "copyright",
        {"datatag": "popular_books-prefix_length_5.json", "source_url": "http://127.0.0.1:9/uc?id={file_id}"},
    )
    with pytest.raises(ScenarioDataError) as error:
        scenario.get_instances(str(tmp_path))
    assert "http://127.0.0.1:9/uc?id=11f5aB8IO_iseVdolvW_D3aZ9xeiLCAuv" in str(error.value)
    assert str(tmp_path / "popular_books-prefix_length_5.json") in str(error.value)


def test_runs_end_to_end_on_simple_model(tmp_path: Path) -> None:
    _cache(tmp_path)
    result = Runner.in_process(InProcessService(), tmp_path, "t").run_one(RUN_SPEC_FUNCTIONS.get("copyright")())
    stats = {(s.name.name, s.name.split): s for s in result.stats}
    for name in ("longest_common_prefix_length", "edit_distance", "edit_similarity"):
        assert stats[(name, "test")].count == 2
    assert 0.0 <= stats[("edit_similarity", "test")].sum <= 2.0


def test_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _cache(tmp_path)
    assert main(["-r", "copyright:model=openai/davinci", "--dry-run", "-o", str(tmp_path)]) == 0
    assert "openai/davinci_estimated_number_of_tokens[min=" in capsys.readouterr().out
