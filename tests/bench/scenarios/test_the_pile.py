"""the_pile on a fixture test.jsonl.zst (Zstandard JSON lines with meta.pile_set_name): subsets, cache, runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import zstandard

from bench import ScenarioDataError
from bench.models import InProcessService
from bench.run_specs import RUN_SPEC_FUNCTIONS
from bench.runner import Runner
from bench.scenarios import create_scenario
from bench.scenarios._the_pile import subset_file_name
from jobs.benchmark_run import main

FIXTURE = Path(__file__).parents[2] / "fixtures" / "the_pile"
ARXIV = [
    "We prove that every bounded sequence has a convergent subsequence.\nThe proof uses compactness.",
    "Consider the Banach space of continuous functions on [0, 1] with the sup norm.",
]


def _cache(tmp_path: Path) -> Path:
    cache = tmp_path / "scenarios" / "the_pile"
    shutil.copytree(FIXTURE, cache)
    return cache


def test_documents_of_the_subset_in_file_order(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    instances = create_scenario("the_pile", {}).get_instances(str(cache))
    assert [i.input for i in instances] == ARXIV
    assert all(i.split == "test" and i.references == () for i in instances)
    gutenberg = create_scenario("the_pile", {"subset": "Gutenberg (PG-19)"}).get_instances(str(cache))
    assert [i.input for i in gutenberg] == ["Chapter One\n\nThe rain had not stopped for three days."]
    assert create_scenario("the_pile", {"subset": "EuroParl"}).get_instances(str(cache)) == []


def test_a_subset_is_cached_once_and_reused(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    create_scenario("the_pile", {}).get_instances(str(cache))
    subset_file = cache / "ArXiv.jsonl"
    assert [json.loads(line)["text"] for line in subset_file.read_text().splitlines()] == ARXIV
    (cache / "test.jsonl.zst").unlink()  # a second run reads only the subset's file
    assert [i.input for i in create_scenario("the_pile", {}).get_instances(str(cache))] == ARXIV
    assert subset_file_name("Gutenberg (PG-19)") == "Gutenberg_PG-19.jsonl"
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="subset 'Reddit' is not valid; choose one of: ArXiv, BookCorpus2"):
        create_scenario("the_pile", {"subset": "Reddit"})
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "test.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(b'{"text": "x"}\n'))
    with pytest.raises(ScenarioDataError, match=r"test\.jsonl\.zst: missing field 'meta'"):
        create_scenario("the_pile", {}).get_instances(str(cache))
    (cache / "test.jsonl.zst").write_bytes(b"not zstandard at all")
    with pytest.raises(ScenarioDataError, match=r"the_pile: cannot read .*test\.jsonl\.zst: ZstdError"):
        create_scenario("the_pile", {}).get_instances(str(cache))
    assert not (cache / "ArXiv.jsonl").exists()  # a failed pass leaves no subset file behind


def test_offline_without_cache_names_the_url_and_the_path(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/pile/test.jsonl.zst"
    with pytest.raises(ScenarioDataError) as error:
        create_scenario("the_pile", {"source_url": url}).get_instances(str(tmp_path))
    assert url in str(error.value) and str(tmp_path / "test.jsonl.zst") in str(error.value)


def test_runs_end_to_end_on_simple_model(tmp_path: Path) -> None:
    _cache(tmp_path)
    result = Runner.in_process(InProcessService(), tmp_path, "t").run_one(RUN_SPEC_FUNCTIONS.get("the_pile")())
    stats = {(s.name.name, s.name.split): s for s in result.stats}
    assert stats[("logprob", "test")].count == 2
    assert stats[("bits_per_byte", "test")].sum > 0
    assert ("perplexity", "test") in stats


def test_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _cache(tmp_path)
    assert main(["-r", "the_pile:model=openai/davinci", "--dry-run", "-o", str(tmp_path)]) == 0
    assert "openai/davinci_estimated_number_of_tokens[min=" in capsys.readouterr().out
