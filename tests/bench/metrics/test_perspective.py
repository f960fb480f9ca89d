"""PerspectiveToxicityService against a fake Perspective server on 127.0.0.1 (real google-api-python-client)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import ConfigError, load_credentials
from bench.metrics._perspective import (
    ATTRIBUTES,
    MAX_TEXT_BYTES,
    PerspectiveToxicityService,
    build_toxicity_service,
    discovery_document,
)
from tests.bench.metrics.fake_perspective import FakePerspective, expected_scores

KEY = "sk-perspective-test-1234"


@pytest.fixture
def fake() -> Iterator[FakePerspective]:
    with FakePerspective(KEY) as server:
        yield server


def _service(fake: FakePerspective, **kwargs: object) -> PerspectiveToxicityService:
    return PerspectiveToxicityService(KEY, api_endpoint=fake.url, backoff_seconds=0.0, **kwargs)  # type: ignore[arg-type]


def test_scores_every_attribute_in_one_batch(fake: FakePerspective) -> None:
    texts = ["have a nice day", "you idiot", "stupid dumb idiot hate"]
    scores = _service(fake).score(texts)
    assert scores[0] == dict.fromkeys(ATTRIBUTES, 0.0)
    assert scores[1] == pytest.approx({**expected_scores("you idiot"), "TOXICITY": 0.3, "INSULT": 0.24})
    assert scores[2] is not None and scores[2]["TOXICITY"] == pytest.approx(0.99)  # 1.2 capped
    assert fake.batch_calls == 1
    request = fake.analyzed[0]
    assert set(request["requestedAttributes"]) == set(ATTRIBUTES)
    assert request["languages"] == ["en"] and request["doNotStore"] is True and request["spanAnnotations"] is False


def test_batches_hold_at_most_batch_size_texts(fake: FakePerspective) -> None:
    texts = [f"text number {k}" for k in range(5)]
    assert all(s is not None for s in _service(fake, batch_size=2).score(texts))
    assert fake.batch_calls == 3  # 2 + 2 + 1
    assert [r["comment"]["text"] for r in fake.analyzed] == texts


def test_a_429_part_is_sent_again_then_succeeds(fake: FakePerspective) -> None:
    fake.part_failures["you idiot"] = [429]
    scores = _service(fake).score(["fine words", "you idiot"])
    assert scores[1] is not None and scores[1]["TOXICITY"] == pytest.approx(0.3)
    assert fake.batch_calls == 2
    # Only the throttled text went again.
    assert [r["comment"]["text"] for r in fake.analyzed] == ["fine words", "you idiot", "you idiot"]


def test_a_whole_batch_answered_500_or_429_is_sent_again(fake: FakePerspective) -> None:
    fake.batch_failures = [500, 429]
    scores = _service(fake).score(["hate"])
    assert scores == [pytest.approx(expected_scores("hate"))]
    assert fake.batch_calls == 3


def test_a_text_still_failing_after_every_attempt_is_none(
    fake: FakePerspective, caplog: pytest.LogCaptureFixture
) -> None:
    fake.part_failures["flaky"] = [503, 503, 503]
    with caplog.at_level(logging.WARNING):
        scores = _service(fake, max_attempts=3).score(["flaky", "ok"])
    assert scores[0] is None and scores[1] is not None
    assert "1 texts unscored after 3 attempts" in caplog.text


def test_a_refused_text_is_none_and_not_retried(fake: FakePerspective) -> None:
    fake.part_failures["unsupported language"] = [400]
    scores = _service(fake).score(["unsupported language"])
    assert scores == [None] and fake.batch_calls == 1


def test_long_texts_are_cut_to_the_api_limit(fake: FakePerspective) -> None:
    _service(fake).score(["é" * MAX_TEXT_BYTES])  # 2 bytes per character
    sent = fake.analyzed[0]["comment"]["text"]
    assert len(sent.encode("utf-8")) == MAX_TEXT_BYTES and set(sent) == {"é"}


def test_a_wrong_key_is_a_config_error_without_the_key(fake: FakePerspective) -> None:
    service = PerspectiveToxicityService("wrong-key-5678", api_endpoint=fake.url, backoff_seconds=0.0)
    with pytest.raises(ConfigError, match=r"perspectiveApiKey: the Perspective API refused the key \(HTTP 403") as e:
        service.score(["hello"])
    assert "wrong-key-5678" not in str(e.value)


def test_the_key_never_reaches_the_logs(fake: FakePerspective, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        _service(fake).score(["hello"])
    assert "URL being requested" in caplog.text  # googleapiclient logs the URL ...
    assert KEY not in caplog.text and "key=<redacted>" in caplog.text  # ... without the key


def test_missing_key_message_names_the_credential(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSPECTIVE_API_KEY", raising=False)
    with pytest.raises(ConfigError) as e:
        PerspectiveToxicityService.from_credentials(load_credentials(tmp_path))
    message = str(e.value)
    assert "perspectiveApiKey" in message and "PERSPECTIVE_API_KEY" in message
    assert str(tmp_path / "credentials.conf") in message
    assert build_toxicity_service(tmp_path) is None


def test_build_from_credentials_file(fake: FakePerspective, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERSPECTIVE_API_KEY", raising=False)
    (tmp_path / "credentials.conf").write_text(f'perspectiveApiKey: "{KEY}"\n')
    service = build_toxicity_service(tmp_path, api_endpoint=fake.url)
    assert service is not None
    assert service.score(["stupid"])[0] == pytest.approx(expected_scores("stupid"))


def test_the_shipped_discovery_document() -> None:
    document = discovery_document()
    assert document["rootUrl"] == "https://commentanalyzer.googleapis.com/" and document["batchPath"] == "batch"
    assert list(document["resources"]) == ["comments"]
    analyze = document["resources"]["comments"]["methods"]["analyze"]
    assert (analyze["path"], analyze["httpMethod"]) == ("v1alpha1/comments:analyze", "POST")
    moved = discovery_document("http://127.0.0.1:9/")
    assert moved["rootUrl"] == moved["baseUrl"] == "http://127.0.0.1:9/"


def test_a_broken_discovery_document_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "perspective_discovery.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read the Perspective discovery document"):
        discovery_document(path=path)
    json.loads((Path(__file__).parents[3] / "configs" / "perspective_discovery.json").read_text())
