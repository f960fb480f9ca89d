"""Toxicity through the proxy: ProxyClient is a bench ToxicityService backed by the proxy's /api/toxicity."""

from __future__ import annotations

from collections.abc import Iterator

from bench.metrics import PerspectiveToxicityService, ToxicityService
from serve import Accounts, ProxyAppConfig, ProxyClient, local_service
from serve._http import build_http_app
from tests.bench.metrics.fake_perspective import FakePerspective
from tests.serve.conftest import _Uvicorn


def _served(config: ProxyAppConfig, perspective: FakePerspective) -> Iterator[tuple[str, str]]:
    admin = Accounts(config.base_path).ensure_admin()
    assert admin is not None
    toxicity = PerspectiveToxicityService("k", api_endpoint=perspective.url, backoff_seconds=0.01)
    with _Uvicorn(build_http_app(local_service(config, toxicity))) as server:
        yield f"http://127.0.0.1:{server.port}", admin


def test_metrics_score_toxicity_through_the_proxy(proxy_config: ProxyAppConfig) -> None:
    with FakePerspective("k") as perspective:
        for url, key in _served(proxy_config, perspective):
            client: ToxicityService = ProxyClient(url, key, batch_size=2)
            scores = client.score(["you idiot", "hello there", "stupid dumb idea"])
    # the fake scores TOXICITY 0.3 per toxic word
    assert [round(s["TOXICITY"], 2) if s else None for s in scores] == [0.3, 0.0, 0.6]
