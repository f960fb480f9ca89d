"""dialect: HELM's matching over HELM's SAE-to-AAVE file, fetched by the download helper (loopback here)."""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench import Instance, PerturbationSpec, Reference, ScenarioDataError
from bench.augmentation import _dialect, augment_instances, create_perturbation, get_data_augmenter_spec
from bench.augmentation._perturbation import Perturbation
from tests.bench.augmentation.helm_data import DIALECT_FIXTURE, place_helm_data


def dialect(data_dir: Path, **args: object) -> Perturbation:
    built = create_perturbation(PerturbationSpec(name="dialect", args=args))
    built.prepare(data_dir)
    return built


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return place_helm_data(tmp_path / "perturbations")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I am going home.", "I am goin home."),
        ("Going home.", "Going home."),  # nothing before the first word: HELM never replaces it
        ("We are going to win.", "We are goin to win."),  # "going" precedes "going to" in the file: it wins
        ("A self-made man.", "A selfmade man."),  # "-" inside a key is matched...
        ("An un-going thing.", "An un-going thing."),  # ...but a "-" next to a word blocks the match
        (" SOMETHING, Something and something. ", " SOMETHIN, Somethin and somethin. "),  # case kept
    ],
)
def test_mapped_words_are_replaced_in_their_case(data_dir: Path, text: str, expected: str) -> None:
    # Every word here has one replacement in the fixture, so the result does not depend on the generator.
    assert dialect(data_dir).perturb(text, random.Random(0)) == expected


def test_choice_and_draw_follow_helms_order(data_dir: Path) -> None:
    rng = random.Random("id2")
    draw = rng.uniform(0, 1)
    choice = rng.choice(["wit", "wif"]) if draw < 0.5 else "with"
    out = dialect(data_dir, prob=0.5).apply(Instance(input="Come with me", id="id2"))
    assert out.input == f"Come {choice} me"


def test_fairness_perturbs_references(data_dir: Path) -> None:
    reference = Reference(output="He is going now", tags=("correct",))
    out = dialect(data_dir).apply(Instance(input="I am going now", references=(reference,), id="x"))
    assert out.input == "I am goin now" and out.references[0].output == "He is goin now"
    assert out.perturbation is not None and out.perturbation.fairness and not out.perturbation.robustness


def test_unprepared_dialect_says_what_to_do() -> None:
    with pytest.raises(RuntimeError, match=r"call prepare\(data_dir\) first"):
        create_perturbation(PerturbationSpec(name="dialect")).perturb(" with ", random.Random(0))


class _Files(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = DIALECT_FIXTURE.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def served_mapping(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """HELM's URL replaced by a loopback server that serves the fixture."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/SAE_to_AAVE_mapping.json"
    monkeypatch.setitem(_dialect.MAPPING_URLS, ("SAE", "AAVE"), url)
    yield url
    server.shutdown()
    server.server_close()


def test_the_mapping_is_downloaded_into_helms_layout_once(served_mapping: str, tmp_path: Path) -> None:
    instances = [Instance(input="So it is with you", id="id1")]
    out = augment_instances(instances, get_data_augmenter_spec("dialect_deterministic"), tmp_path)
    assert (tmp_path / "dialect" / "SAE_to_AAVE_mapping.json").read_bytes() == DIALECT_FIXTURE.read_bytes()
    assert out[1].input in ("So it is wit you", "So it is wif you")


def test_offline_error_names_the_url_and_where_to_put_the_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on: the connection is refused, as offline
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/SAE_to_AAVE_mapping.json"
    monkeypatch.setitem(_dialect.MAPPING_URLS, ("SAE", "AAVE"), url)
    target = tmp_path / "dialect" / "SAE_to_AAVE_mapping.json"
    with pytest.raises(ScenarioDataError, match="cannot download") as error:
        create_perturbation(PerturbationSpec(name="dialect")).prepare(tmp_path)
    assert url in str(error.value) and str(target) in str(error.value) and "by hand" in str(error.value)
    assert not target.exists()


def test_helms_url_is_the_default() -> None:
    assert _dialect.MAPPING_URLS[("SAE", "AAVE")] == (
        "https://storage.googleapis.com/crfm-helm-public/source_datasets/"
        "augmentations/dialect_perturbation/SAE_to_AAVE_mapping.json"
    )


@pytest.mark.parametrize(
    ("file_text", "message"),
    [
        ("[1, 2]", "must be a non-empty JSON object"),
        ('{"with": "wit"}', "entry 'with' must be a non-empty list of strings, got 'wit'"),
        ("{not json", "cannot read the dialect mapping"),
    ],
)
def test_a_bad_mapping_file_is_named(tmp_path: Path, file_text: str, message: str) -> None:
    path = tmp_path / "dialect" / "SAE_to_AAVE_mapping.json"
    path.parent.mkdir(parents=True)
    path.write_text(file_text)
    with pytest.raises(ScenarioDataError, match=message):
        create_perturbation(PerturbationSpec(name="dialect")).prepare(tmp_path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"target_class": "XYZ"}, r"'dialect': argument 'source_class, target_class' must be one of SAE->AAVE"),
        ({"prob": -1}, r"argument 'prob' must be a number in \[0, 1\]"),
    ],
)
def test_bad_arguments_are_refused(args: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_perturbation(PerturbationSpec(name="dialect", args=args))
