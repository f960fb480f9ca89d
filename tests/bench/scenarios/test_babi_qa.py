"""babi_qa on a fixture laid out as the unpacked tasks_1-20_v1-2.tar.gz: parsing, errors, a run, a dry run."""

from __future__ import annotations

import io
import shutil
import tarfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench import CORRECT_TAG, ScenarioDataError
from bench.models import InProcessService
from bench.run_specs import RUN_SPEC_FUNCTIONS
from bench.runner import Runner
from bench.scenarios import create_scenario
from bench.scenarios._babi_qa import SOURCE_URL, spell_path
from jobs.benchmark_run import main

FIXTURE = Path(__file__).parents[2] / "fixtures" / "babi_qa"


def _cache(tmp_path: Path) -> Path:
    """The fixture placed where the download would put it: <output>/scenarios/babi_qa/tasks_1-20_v1-2."""
    cache = tmp_path / "scenarios" / "babi_qa"
    shutil.copytree(FIXTURE, cache)
    return cache


@pytest.fixture
def archive_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback HTTP server publishing the fixture as tasks_1-20_v1-2.tar.gz; yields its URL and the paths hit."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(FIXTURE / "tasks_1-20_v1-2", arcname="tasks_1-20_v1-2")
    body, hits = buffer.getvalue(), []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/babi/tasks_1-20_v1-2.tar.gz", hits
    server.shutdown()
    thread.join()


def test_downloads_unpacks_and_reuses_the_archive(tmp_path: Path, archive_server: tuple[str, list[str]]) -> None:
    url, hits = archive_server
    scenario = create_scenario("babi_qa", {"task": 1, "source_url": url})
    first = scenario.get_instances(str(tmp_path))
    assert (tmp_path / "tasks_1-20_v1-2" / "en-valid" / "qa1_train.txt").exists()
    assert scenario.get_instances(str(tmp_path)) == first  # the second run reads the cache
    assert hits == ["/babi/tasks_1-20_v1-2.tar.gz"]
    assert len(first) == 7


def test_questions_see_the_statements_of_their_story_before_them(tmp_path: Path) -> None:
    instances = create_scenario("babi_qa", {"task": 1}).get_instances(str(_cache(tmp_path)))
    assert [i.split for i in instances] == ["train"] * 3 + ["valid"] + ["test"] * 3
    first, second, third = instances[:3]
    assert first.input == "Passage: Mary moved to the bathroom. John went to the hallway.\nQuestion: Where is Mary?"
    assert second.input == (
        "Passage: Mary moved to the bathroom. John went to the hallway. Daniel went back to the hallway. "
        "Sandra moved to the garden.\nQuestion: Where is Daniel?"
    )
    assert third.input == "Passage: Sandra travelled to the office.\nQuestion: Where is Sandra?"  # a new story
    assert [i.references[0].output for i in instances] == [
        "bathroom", "hallway", "office", "kitchen", "hallway", "bathroom", "office",
    ]  # fmt: skip
    assert all(i.references[0].tags == (CORRECT_TAG,) for i in instances)


def test_path_finding_answers_are_spelled_out(tmp_path: Path) -> None:
    instances = create_scenario("babi_qa", {"task": 19}).get_instances(str(_cache(tmp_path)))
    assert [i.references[0].output for i in instances] == ["south west", "east", "east north"]
    assert spell_path("n,e") == "north east"
    with pytest.raises(ValueError, match="steps \\['x'\\]"):
        spell_path("n,x")


def test_bad_task_and_malformed_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="task must be between 1 and 20, got 21"):
        create_scenario("babi_qa", {"task": 21})
    cache = _cache(tmp_path)
    (cache / "tasks_1-20_v1-2" / "en-valid" / "qa1_valid.txt").write_text("Mary moved.\n")
    with pytest.raises(ScenarioDataError, match=r"qa1_valid\.txt: line 1 does not start with a sentence id"):
        create_scenario("babi_qa", {"task": 1}).get_instances(str(cache))


def test_offline_without_cache_names_the_url_and_the_path(tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/babi/tasks_1-20_v1-2.tar.gz"
    scenario = create_scenario("babi_qa", {"task": 1, "source_url": url})
    with pytest.raises(ScenarioDataError) as error:
        scenario.get_instances(str(tmp_path / "cache"))
    assert url in str(error.value) and str(tmp_path / "cache" / "tasks_1-20_v1-2") in str(error.value)
    assert SOURCE_URL.endswith("tasks_1-20_v1-2.tar.gz")


def test_runs_end_to_end_on_simple_model(tmp_path: Path) -> None:
    _cache(tmp_path)
    result = Runner.in_process(InProcessService(), tmp_path, "t").run_one(RUN_SPEC_FUNCTIONS.get("babi_qa")())
    stats = {(s.name.name, s.name.split): s for s in result.stats if s.name.perturbation is None}
    assert stats[("exact_match", "test")].count == 3
    assert stats[("exact_match", "valid")].count == 1
    assert (tmp_path / "runs" / "t" / "babi_qa:task=1" / "stats.json").exists()


def test_dry_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _cache(tmp_path)
    assert main(["-r", "babi_qa:model=openai/davinci", "--dry-run", "-o", str(tmp_path)]) == 0
    assert "openai/davinci_estimated_number_of_tokens[min=" in capsys.readouterr().out
