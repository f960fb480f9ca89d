"""mmlu: the hendrycks CSV files read from a cache laid out as data.tar unpacks, a real download from a
loopback server, and the offline message."""

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
from bench.scenarios import _mmlu
from bench.scenarios._mmlu import SUBJECTS, MMLUScenario

FIXTURE = Path(__file__).parents[2] / "fixtures" / "mmlu"


def _cache(tmp_path: Path) -> Path:
    """The scenario cache as the unpacked download leaves it: <cache>/data/{dev,val,test}/<subject>_<split>.csv."""
    shutil.copytree(FIXTURE, tmp_path, dirs_exist_ok=True)
    return tmp_path


def _correct(instance: object) -> list[str]:
    return [r.output for r in instance.references if r.is_correct]  # type: ignore[attr-defined]


def test_reads_dev_val_test_as_train_valid_test(tmp_path: Path) -> None:
    instances = MMLUScenario("anatomy").get_instances(str(_cache(tmp_path)))
    assert [i.split for i in instances] == ["train", "train", "valid", "valid", "test", "test", "test"]
    first = instances[0]
    assert first.input == "Which bone protects the brain?"
    assert [r.output for r in first.references] == ["Femur", "Skull", "Tibia", "Rib"]
    assert [r.tags for r in first.references] == [(), (CORRECT_TAG,), (), ()]
    # Quoted fields keep their commas and doubled quotes.
    assert instances[1].input == "Which organ pumps blood, and where is it?"
    assert instances[3].input == 'The "funny bone" is, in fact, a'
    assert _correct(instances[3]) == ["nerve"]
    assert _correct(instances[2]) == ["Four"]
    assert [r.output for r in instances[6].references] == [
        "radius, ulna",
        "femur, tibia",
        "humerus, scapula",
        "radius, fibula",
    ]
    assert _correct(instances[6]) == ["radius, ulna"]
    assert [_correct(i) for i in instances[4:6]] == [["Skin"], ["The front of the eye"]]


def test_a_subject_without_files_in_the_cache_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioDataError, match=r"astronomy_dev\.csv is missing from the MMLU data"):
        MMLUScenario("astronomy").get_instances(str(_cache(tmp_path)))


def test_malformed_row_names_file_and_line(tmp_path: Path) -> None:
    cache = _cache(tmp_path)
    (cache / "data" / "val" / "anatomy_val.csv").write_text("Q?,a,b,c,d,B\nQ2?,a,b,c,d,F\n")
    with pytest.raises(ScenarioDataError, match=r"anatomy_val\.csv:2: answer 'F' is not one of the choice letters"):
        MMLUScenario("anatomy").get_instances(str(cache))


def test_the_57_subjects_are_checked() -> None:
    assert len(SUBJECTS) == 57 and "high_school_government_and_politics" in SUBJECTS
    with pytest.raises(ValueError, match="subject 'astrology' is not valid; choose one of: abstract_algebra"):
        MMLUScenario("astrology")  # type: ignore[arg-type]
    assert MMLUScenario().subject == "abstract_algebra"  # every argument has a default


def test_offline_without_cache_names_url_and_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_mmlu, "DATA_URL", "http://127.0.0.1:9/~hendrycks/data.tar")
    with pytest.raises(ScenarioDataError) as error:
        MMLUScenario("anatomy").get_instances(str(tmp_path))
    assert "http://127.0.0.1:9/~hendrycks/data.tar" in str(error.value)
    assert str(tmp_path / "data") in str(error.value)
    assert not (tmp_path / "data").exists()  # nothing half-done counts as the cache


@pytest.fixture
def tar_server() -> Iterator[tuple[str, list[str]]]:
    """A loopback server for data.tar built from the fixture (one top-level folder `data/`, like upstream)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(FIXTURE / "data", arcname="data")
    payload, hits = buffer.getvalue(), []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the http.server API names it
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/~hendrycks/data.tar", hits
    server.shutdown()
    server.server_close()


def test_downloads_and_unpacks_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tar_server: tuple[str, list[str]]
) -> None:
    url, hits = tar_server
    monkeypatch.setattr(_mmlu, "DATA_URL", url)
    first = MMLUScenario("anatomy").get_instances(str(tmp_path))
    assert (tmp_path / "data" / "test" / "anatomy_test.csv").is_file()
    second = MMLUScenario("anatomy").get_instances(str(tmp_path))  # the second run reuses the cache
    assert first == second and len(first) == 7
    assert hits == ["/~hendrycks/data.tar"]
