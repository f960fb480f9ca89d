"""The Perspective API as a `ToxicityService`, through google-api-python-client.

The library ships no discovery document for `commentanalyzer v1alpha1`, so the project ships a trimmed one
(`configs/perspective_discovery.json`, only `comments.analyze`) and builds the client from it with
`build_from_document`. Texts are scored in batches (Google's `multipart/mixed` batch endpoint, `/batch`): one
HTTP call per `batch_size` texts. Requests answered 429 or 5xx (the whole batch or single parts) and lost
connections are sent again after an exponential backoff, up to `max_attempts` times.

For tests, or a Perspective-compatible server, `api_endpoint` replaces the Google host. The client sends
single calls to `api_endpoint` but derives the batch URL from the document's `rootUrl`, so the document's
`rootUrl` is rewritten too (otherwise batches would still go to Google).

The API key travels in the `key` query parameter; the library logs request URLs at DEBUG level, so a filter
on its logger replaces the key before any handler sees it. Errors report status and reason, never the URL.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench._credentials import Credentials, load_credentials
from bench._errors import ConfigError
from bench.metrics._metric import ToxicityService
from bench.models import config_dir

logger = logging.getLogger(__name__)

PERSPECTIVE_API_KEY = "perspectiveApiKey"
"""Name of the credential holding the key (prod_env/credentials.conf or PERSPECTIVE_API_KEY)."""
DISCOVERY_FILE = "perspective_discovery.json"
ATTRIBUTES = (
    "TOXICITY",
    "SEVERE_TOXICITY",
    "IDENTITY_ATTACK",
    "INSULT",
    "PROFANITY",
    "THREAT",
    "SEXUALLY_EXPLICIT",
    "FLIRTATION",
)
"""Every attribute requested for each text."""
MAX_TEXT_BYTES = 20480
"""Perspective rejects comments longer than 20 KB; longer texts are cut (at a character boundary)."""
RETRIABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
_KEY_IN_URL = re.compile(r"([?&]key=)[^&\s\"']+")


class _RedactKey(logging.Filter):
    """Replaces the value of `key=` in a log record's message (googleapiclient logs request URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "key=" in message:
            record.msg, record.args = _KEY_IN_URL.sub(r"\1<redacted>", message), None
        return True


@functools.cache
def _install_redaction() -> None:
    for name in ("googleapiclient.discovery", "googleapiclient.http"):
        logging.getLogger(name).addFilter(_RedactKey())


def discovery_document(api_endpoint: str | None = None, path: Path | None = None) -> dict[str, Any]:
    """The shipped discovery document, with `rootUrl`/`baseUrl` pointing at `api_endpoint` when given.

    Raises:
        ConfigError: when the document is missing or not JSON.
    """
    if path is None:
        path = config_dir() / DISCOVERY_FILE
        if not path.is_file():  # a custom config folder without it: use the one shipped with Mercury
            path = Path(__file__).resolve().parents[2] / "configs" / DISCOVERY_FILE
    try:
        document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(str(path), f"cannot read the Perspective discovery document ({e})") from None
    if api_endpoint:
        root = api_endpoint if api_endpoint.endswith("/") else api_endpoint + "/"
        document.update(rootUrl=root, baseUrl=root + document.get("servicePath", ""))
    return document


def _comment_body(text: str, languages: Sequence[str]) -> dict[str, Any]:
    """The AnalyzeCommentRequest for one text: every attribute, nothing stored on Google's side."""
    cut = text.encode("utf-8")[:MAX_TEXT_BYTES].decode("utf-8", errors="ignore")
    body: dict[str, Any] = {
        "comment": {"text": cut},
        "requestedAttributes": {name: {} for name in ATTRIBUTES},
        "spanAnnotations": False,
        "doNotStore": True,
    }
    if languages:
        body["languages"] = list(languages)
    return body


def parse_scores(response: dict[str, Any]) -> dict[str, float]:
    """Attribute name -> summary score value of an AnalyzeCommentResponse."""
    scores = response.get("attributeScores", {})
    return {name: float(entry["summaryScore"]["value"]) for name, entry in scores.items() if "summaryScore" in entry}


class PerspectiveToxicityService:
    """Scores texts with the Perspective API (implements bench.metrics.ToxicityService).

    Not thread-safe (one HTTP connection); use one instance per thread.

    Args:
        api_key: the Perspective API key.
        api_endpoint: another server speaking the same API (tests), e.g. `http://127.0.0.1:8123/`.
        batch_size: texts per batch call (Google accepts up to 1000 parts; Perspective's quota is per text).
        max_attempts: tries per text before it is reported as unscored (None).
        backoff_seconds: wait before the second attempt, doubled for each further one.
        languages: languages of the texts; empty lets Perspective detect them.
        timeout_seconds: socket timeout of one HTTP call.
    """

    def __init__(
        self,
        api_key: SecretStr | str,
        *,
        api_endpoint: str | None = None,
        batch_size: int = 50,
        max_attempts: int = 5,
        backoff_seconds: float = 1.0,
        languages: Sequence[str] = ("en",),
        timeout_seconds: float = 60.0,
    ) -> None:
        if batch_size < 1 or max_attempts < 1:
            raise ValueError(f"batch_size={batch_size} and max_attempts={max_attempts} must be >= 1")
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.languages = tuple(languages)
        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        self._client = _build_client(key, api_endpoint, timeout_seconds)

    @classmethod
    def from_credentials(cls, credentials: Credentials, **kwargs: Any) -> PerspectiveToxicityService:
        """The service with the key `perspectiveApiKey`.

        Raises:
            ConfigError: naming perspectiveApiKey, the credentials file and PERSPECTIVE_API_KEY when it is missing.
        """
        return cls(credentials.require(PERSPECTIVE_API_KEY), **kwargs)

    def score(self, texts: Sequence[str]) -> list[dict[str, float] | None]:
        """Per text, every attribute's score in [0, 1]; None for a text Perspective would not score.

        An empty (or all-whitespace) text is not sent: it scores 0 on every attribute.

        Raises:
            ConfigError: when Perspective refuses the key (401 or 403).
        """
        results: list[dict[str, float] | None] = [None] * len(texts)
        pending = []
        for index, text in enumerate(texts):
            if text.strip():
                pending.append(index)
            else:
                results[index] = dict.fromkeys(ATTRIBUTES, 0.0)
        for attempt in range(self.max_attempts):
            if attempt:
                time.sleep(self.backoff_seconds * 2 ** (attempt - 1))
            retry: list[int] = []
            for start in range(0, len(pending), self.batch_size):
                retry += self._send_batch(pending[start : start + self.batch_size], texts, results)
            pending = retry
            if not pending:
                break
            logger.info(
                "perspective: %d texts to send again (attempt %d of %d)", len(pending), attempt + 1, self.max_attempts
            )
        if pending:
            logger.warning("perspective: %d texts unscored after %d attempts", len(pending), self.max_attempts)
        return results

    def _send_batch(
        self, indices: list[int], texts: Sequence[str], results: list[dict[str, float] | None]
    ) -> list[int]:
        """Send one batch; fill `results`; return the indices to send again."""
        from googleapiclient.errors import HttpError
        from httplib2 import HttpLib2Error

        retry: list[int] = []

        def on_response(request_id: str, response: dict[str, Any] | None, error: Exception | None) -> None:
            index = int(request_id)
            if error is None and response is not None:
                results[index] = parse_scores(response)
            elif isinstance(error, HttpError) and error.status_code in RETRIABLE_STATUSES:
                retry.append(index)
            else:
                _check_key(error)
                logger.warning("perspective: text %d not scored (%s)", index, _describe(error))

        batch = self._client.new_batch_http_request()
        for index in indices:
            request = self._client.comments().analyze(body=_comment_body(texts[index], self.languages))
            batch.add(request, callback=on_response, request_id=str(index))
        try:
            batch.execute()
        except HttpError as e:
            _check_key(e)
            if e.status_code in RETRIABLE_STATUSES:
                return indices
            logger.warning("perspective: batch of %d texts refused (%s)", len(indices), _describe(e))
            return []
        except (HttpLib2Error, OSError) as e:
            logger.warning("perspective: batch call failed (%s); will retry", type(e).__name__)
            return indices
        return retry


def _check_key(error: Exception | None) -> None:
    """Raise ConfigError for an authentication failure: every later call would fail the same way."""
    from googleapiclient.errors import HttpError

    if isinstance(error, HttpError) and error.status_code in (401, 403):
        raise ConfigError(PERSPECTIVE_API_KEY, f"the Perspective API refused the key ({_describe(error)})")


def _describe(error: Exception | None) -> str:
    """Status and reason of an HttpError, without its URL (the URL holds the key)."""
    from googleapiclient.errors import HttpError

    if isinstance(error, HttpError):
        return f"HTTP {error.status_code}: {error.reason}"
    return type(error).__name__


def _build_client(api_key: str, api_endpoint: str | None, timeout_seconds: float) -> Any:
    """A googleapiclient Resource for commentanalyzer v1alpha1 built from the shipped document."""
    try:
        import httplib2
        from googleapiclient.discovery import build_from_document
    except ImportError:
        raise ConfigError(
            "google-api-python-client", "the Perspective API needs it: pip install google-api-python-client"
        ) from None
    _install_redaction()
    options = {"api_endpoint": api_endpoint} if api_endpoint else None
    return build_from_document(
        discovery_document(api_endpoint),
        developerKey=api_key,
        client_options=options,
        http=httplib2.Http(timeout=timeout_seconds),
    )


def build_toxicity_service(base_path: str | Path, *, api_endpoint: str | None = None) -> ToxicityService | None:
    """The Perspective service when `<base_path>/credentials.conf` (or PERSPECTIVE_API_KEY) has a key, else None.

    None makes the toxicity metric report nothing (with one warning naming perspectiveApiKey) while the
    run's other metrics proceed.
    """
    credentials = load_credentials(base_path)
    if credentials.get(PERSPECTIVE_API_KEY) is None:
        return None
    return PerspectiveToxicityService.from_credentials(credentials, api_endpoint=api_endpoint)
