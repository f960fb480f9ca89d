"""wiki on fixtures in the layout of HELM's WikiFact {train,dev,test}.jsonl: parsing, errors, top-k runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench import ScenarioDataError
from bench.models import InProcessService
from bench.run_specs import RUN_SPEC_FUNCTIONS
from bench.runner import Runner
from bench.scenarios import create_scenario
from bench.scenarios._wiki_fact import object_names
from jobs.benchmark_run import main

FIXTURE = Path(__file__).parents[2] / "fixtures" / "wiki"


def _cache(tmp_path: Path) -> Path:
    cache = tmp_path / "scenarios" / "wiki"
    shutil.copytree(FIXTURE, cache)
    return cache


def test_facts_of_the_relation_with_every_object_name(tmp_path: Path) -> None:
    instances = create_scenario("wiki", {}).get_instances(str(_cache(tmp_path)))
    assert [(i.input, i.split) for i in instances] == [
        ("Doug Eckerty is an instance of", "train"),
        ("Chegerd is an instance of", "train"),
        ("Anna Berg is an instance of", "valid"),
        ("Oak Creek is an instance of", "test"),
        ("Tom Hale is an instance of", "test"),
    ]
    oak_creek = instances[3]
    assert [r.output for r in oak_creek.references] == ["river", "stream", "watercourse"]
    assert all(r.is_correct for r in oak_creek.references)
    capitals = create_scenario("wiki", {"subject": "P1376"}).get_instances(str(tmp_path / "scenarios" / "wiki"))
    assert [(i.input, [r.output for r in i.references]) for i in capitals] == [
        ("Lima is the capital of", ["Peru", "Republic of Peru"]),
        ("Rome is the capital of", ["Italy"]),
    ]
    assert object_names([["a", " b "], "c", ["a"]]) == ["a", "b", "c"]


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="subject 'instance_of' is not valid; give a Wikidata property id"):
        create_scenario("wiki", {"subject": "instance_of"})
    cache = _cache(tmp_path)
    with pytest.raises(ScenarioDataError, match="wiki: no evaluation facts for relation P999"):
        create_scenario("wiki", {"subject": "P999"}).get_instances(str(cache))
    (cache / "dev.jsonl").write_text('{"property": "P31", "template": "X is a"}\n')
    with pytest.raises(ScenarioDataError, match=r"dev\.jsonl: missing field 'result_names'"):
        create_scenario("wiki", {}).get_instances(str(cache))


def test_offline_without_cache_names_the_url_and_the_path(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/bundle/{file}"
    with pytest.raises(ScenarioDataError) as error:
        create_scenario("wiki", {"source_url": url}).get_instances(str(tmp_path))
    assert "http://127.0.0.1:9/bundle/train.jsonl" in str(error.value)
    assert str(tmp_path / "train.jsonl") in str(error.value)


def test_runs_end_to_end_on_simple_model_with_k_guesses(tmp_path: Path) -> None:
    _cache(tmp_path)
    run_spec = RUN_SPEC_FUNCTIONS.get("wiki")(k=3)
    assert run_spec.name == "wiki:k=3,subject=P31" and run_spec.adapter_spec.num_outputs == 3
    result = Runner.in_process(InProcessService(), tmp_path, "t").run_one(run_spec)
    stats = {(s.name.name, s.name.split): s for s in result.stats}
    assert stats[("exact_match@3", "test")].count == 2
    assert stats[("quasi_exact_match@3", "valid")].count == 1
    assert stats[("exact_match", "test")].count == 2  # the first guess alone, as well
    with pytest.raises(ValueError, match="k must be at least 1, got 0"):
        RUN_SPEC_FUNCTIONS.get("wiki")(k=0)


def test_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _cache(tmp_path)
    assert main(["-r", "wiki:model=openai/davinci", "--dry-run", "-o", str(tmp_path)]) == 0
    assert "openai/davinci_estimated_number_of_tokens[min=" in capsys.readouterr().out
