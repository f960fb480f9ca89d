"""`ProxyClient`: a remote proxy over HTTP(S) with an API key, for users and for the benchmark.

It is a bench `ModelService`: `make_requests` sends requests through the batch endpoint (many per call),
and what the runner needs to know about a model (deployment, tokenizer) comes from the local
configs/model_deployments.yaml, as for the in-process service. An error answer raises `ProxyError`
with the proxy's status and message; a provider's failure is an unsuccessful `RequestResult`.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench import Request, RequestResult
from bench.models import ModelDeployment, get_deployment
from bench.tokenizers import Tokenizer, get_tokenizer
from serve._accounts import Account
from serve._errors import ProxyError

DEFAULT_BATCH_SIZE = 256


class ProxyClient:
    """Talks to one proxy with one API key (the key is sent in the Authorization header, never in URLs)."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = 600.0,
        verify: bool | str = True,
        batch_size: int = DEFAULT_BATCH_SIZE,
        deployments_file: Path | str | None = None,
    ) -> None:
        """Args:
        url: the proxy's root, e.g. 'http://127.0.0.1:1959'. verify: TLS check (a CA file for a private CA).
        batch_size: requests per call of the batch endpoint.
        """
        self.url = url.rstrip("/")
        self.batch_size = batch_size
        self.deployments_file = deployments_file
        checked = ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
        self._http = httpx.Client(
            base_url=self.url, timeout=timeout, verify=checked, headers={"Authorization": f"Bearer {api_key}"}
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=body)
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:500]
            raise ProxyError(f"{method} {path}: HTTP {response.status_code}: {message}", status=response.status_code)
        return response.json()

    def general_info(self) -> dict[str, Any]:
        """The proxy's models and their availability."""
        info: dict[str, Any] = self._call("GET", "/api/general_info")
        return info

    def get_account(self) -> Account:
        """This key's account: usage and quotas per model group."""
        return Account.model_validate(self._call("GET", "/api/account"))

    def make_request(self, request: Request) -> RequestResult:
        """One request's result (cached: true when the proxy's cache answered)."""
        return RequestResult.model_validate(self._call("POST", "/api/request", {"request": _json(request)}))

    def make_requests(self, requests: Sequence[Request]) -> list[RequestResult]:
        """Every request's result, in order, `batch_size` per call of the batch endpoint."""
        results: list[RequestResult] = []
        for start in range(0, len(requests), self.batch_size):
            chunk = [_json(r) for r in requests[start : start + self.batch_size]]
            answer = self._call("POST", "/api/requests", {"requests": chunk})
            results.extend(RequestResult.model_validate(r) for r in answer["results"])
        return results

    def tokenize(self, model: str, text: str) -> dict[str, Any]:
        """The model's token ids and token texts of `text`, as the proxy computes them."""
        tokens: dict[str, Any] = self._call("POST", "/api/tokenize", {"request": {"model": model, "text": text}})
        return tokens

    def score(self, texts: Sequence[str]) -> list[dict[str, float] | None]:
        """Perspective scores per text through the proxy's /api/toxicity (bench's ToxicityService), so toxicity
        metrics share the proxy's key and never see it."""
        scores: list[dict[str, float] | None] = []
        for start in range(0, len(texts), self.batch_size):
            body = {"request": {"text_batch": list(texts[start : start + self.batch_size])}}
            scores.extend(self._call("POST", "/api/toxicity", body)["scores"])
        return scores

    def get_deployment(self, model: str) -> ModelDeployment:
        """The model's deployment from the local configs (raises UnknownModelError)."""
        return get_deployment(model, self.deployments_file)

    def get_model_tokenizer(self, model: str) -> Tokenizer:
        """The model's tokenizer, run locally."""
        return get_tokenizer(self.get_deployment(model).tokenizer)


def _json(request: Request) -> dict[str, Any]:
    return request.model_dump(mode="json", exclude_defaults=True) | {"model": request.model}
