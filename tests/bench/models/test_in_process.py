"""`InProcessService`: routing requests by model to in-process clients."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from bench import ModelUnavailableError, Request, RequestResult, UnknownModelError
from bench.models import InProcessService, ModelClient, ModelService, client


class RecordingClient(ModelClient):
    """Answers with the prompt and records each batch it is given."""

    batches: list[list[str]] = []  # noqa: RUF012  (shared so that the test can read it)

    def make_request(self, request: Request) -> RequestResult:
        raise AssertionError("the service must call make_requests")

    def make_requests(self, requests: Sequence[Request]) -> list[RequestResult]:
        self.batches.append([r.prompt for r in requests])
        return [RequestResult(success=True, error=r.prompt) for r in requests]


def test_simple_model_answers() -> None:
    service = InProcessService()
    results = service.make_requests(
        [Request(model="simple/model1", prompt=f"say {w}", max_tokens=1) for w in ("one", "two")]
    )
    assert [r.completions[0].text for r in results] == [" one", " two"]
    assert isinstance(service, ModelService)


def test_tokenizer_and_deployment() -> None:
    service = InProcessService()
    assert service.get_model_tokenizer("simple/model1").name == "openai/r50k_base"
    assert service.get_model_tokenizer("openai/gpt-4o").name == "openai/o200k_base"
    assert service.get_deployment("simple/model1").context_window == 2048


def test_each_models_requests_go_to_its_client_in_one_batch(tmp_path: Path, restore_registries: None) -> None:
    client("test-recording")(lambda deployment: RecordingClient())
    config = tmp_path / "model_deployments.yaml"
    config.write_text(
        "model_deployments:\n"
        "  - {name: test/rec, client: test-recording, tokenizer: openai/r50k_base, context_window: 9}\n"
        "  - {name: simple/model1, client: simple, tokenizer: openai/r50k_base, context_window: 9}\n"
    )
    RecordingClient.batches = []
    service = InProcessService(config)
    requests = [
        Request(model="test/rec", prompt="a"),
        Request(model="simple/model1", prompt="word", max_tokens=1),
        Request(model="test/rec", prompt="b"),
    ]
    results = service.make_requests(requests)
    assert RecordingClient.batches == [["a", "b"]]
    assert [results[0].error, results[1].completions[0].text, results[2].error] == ["a", " word", "b"]
    assert service.client_for("test/rec") is service.client_for("test/rec")  # built once per model


def test_unknown_model() -> None:
    with pytest.raises(UnknownModelError, match="unknown model 'nobody/model'"):
        InProcessService().make_request(Request(model="nobody/model", prompt="x"))


def test_hosted_model_without_client_points_to_the_proxy() -> None:
    with pytest.raises(ModelUnavailableError, match=r"client 'openai' does not run in-process.*through the proxy"):
        InProcessService().make_request(Request(model="openai/gpt-4o-mini", prompt="x"))
