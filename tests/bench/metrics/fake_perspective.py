"""A fake Perspective API on 127.0.0.1 speaking the real wire formats.

- `POST /v1alpha1/comments:analyze?key=K`: an AnalyzeCommentRequest JSON in, an AnalyzeCommentResponse out
  (`attributeScores.<ATTR>.summaryScore.{value,type}` and `spanScores`, `languages`, `detectedLanguages`).
- `POST /batch`: Google's batch format. The body is `multipart/mixed`; each part is `application/http` with a
  `Content-ID` and holds one serialized HTTP request. The answer is `multipart/mixed` with one part per request,
  `Content-ID: <response-ID>`, holding a serialized HTTP response.
- A wrong key gets 403 PERMISSION_DENIED in Google's error JSON.

Scores are deterministic: TOXICITY is 0.3 per toxic word (`TOXIC_WORDS`) capped at 0.99, and every other
attribute is TOXICITY times a fixed factor, so tests can compute the expected values by hand.
Failures can be injected: `batch_failures` (statuses answered to whole batch calls, consumed in order) and
`part_failures` (text -> statuses answered to that text's part, consumed in order).
"""

from __future__ import annotations

import json
import threading
import uuid
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOXIC_WORDS = frozenset({"idiot", "stupid", "hate", "dumb"})
FACTORS = {
    "TOXICITY": 1.0,
    "SEVERE_TOXICITY": 0.5,
    "IDENTITY_ATTACK": 0.1,
    "INSULT": 0.8,
    "PROFANITY": 0.4,
    "THREAT": 0.05,
    "SEXUALLY_EXPLICIT": 0.02,
    "FLIRTATION": 0.2,
}
REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 429: "Too Many Requests", 500: "Internal Server Error"}


def toxicity(text: str) -> float:
    """The fake's TOXICITY for `text`."""
    words = [w.strip(".,!?").lower() for w in text.split()]
    return min(0.99, 0.3 * sum(w in TOXIC_WORDS for w in words))


def expected_scores(text: str) -> dict[str, float]:
    """What the fake answers for `text` (float32-free: plain floats)."""
    return {name: toxicity(text) * factor for name, factor in FACTORS.items()}


def _error(status: int, message: str) -> dict[str, Any]:
    google_status = {403: "PERMISSION_DENIED", 429: "RESOURCE_EXHAUSTED", 400: "INVALID_ARGUMENT"}.get(
        status, "INTERNAL"
    )
    return {"error": {"code": status, "message": message, "status": google_status}}


class FakePerspective:
    """The server: start with `with FakePerspective(key) as fake:`; `fake.url` is the api_endpoint."""

    def __init__(self, api_key: str = "test-key") -> None:
        self.api_key = api_key
        self.batch_failures: list[int] = []
        self.part_failures: dict[str, list[int]] = {}
        self.batch_calls = 0
        self.analyzed: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def __enter__(self) -> FakePerspective:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def analyze(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        """One comments:analyze call: (status, JSON body)."""
        parts = urlsplit(path)
        if parts.path != "/v1alpha1/comments:analyze":
            return 404, _error(404, f"no method at {parts.path}")
        if parse_qs(parts.query).get("key") != [self.api_key]:
            return 403, _error(403, "The request is missing a valid API key.")
        request = json.loads(body)
        text = request["comment"]["text"]
        with self.lock:
            self.analyzed.append(request)
            failures = self.part_failures.get(text)
            if failures:
                status = failures.pop(0)
                return status, _error(status, "injected failure")
        if not text:
            return 400, _error(400, "Comment must be non-empty.")
        scores = {
            name: {
                "spanScores": [{"begin": 0, "end": len(text), "score": {"value": value, "type": "PROBABILITY"}}],
                "summaryScore": {"value": value, "type": "PROBABILITY"},
            }
            for name, value in expected_scores(text).items()
            if name in request["requestedAttributes"]
        }
        return 200, {"attributeScores": scores, "languages": ["en"], "detectedLanguages": ["en"]}

    def batch(self, content_type: str, body: bytes) -> tuple[int, str, bytes]:
        """One /batch call: (status, content type, body)."""
        with self.lock:
            self.batch_calls += 1
            if self.batch_failures:
                status = self.batch_failures.pop(0)
                return status, "application/json", json.dumps(_error(status, "injected failure")).encode()
        message = BytesParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
        boundary = f"batch_{uuid.uuid4().hex}"
        out = []
        for part in message.get_payload():
            content_id = part["Content-ID"]
            request_line, rest = part.get_payload(decode=True).split(b"\n", 1)
            method, target, _ = request_line.decode().split(" ", 2)
            _headers, _, request_body = rest.replace(b"\r\n", b"\n").partition(b"\n\n")
            status, answer = self.analyze(target, request_body) if method == "POST" else (405, _error(405, "POST"))
            payload = json.dumps(answer)
            out.append(
                f"--{boundary}\r\nContent-Type: application/http\r\nContent-ID: <response-{content_id[1:-1]}>\r\n\r\n"
                f"HTTP/1.1 {status} {REASONS.get(status, 'Error')}\r\nContent-Type: application/json; charset=UTF-8\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n{payload}\r\n"
            )
        out.append(f"--{boundary}--\r\n")
        return 200, f"multipart/mixed; boundary={boundary}", "".join(out).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if urlsplit(self.path).path == "/batch":
                    status, content_type, data = fake.batch(self.headers["Content-Type"], body)
                else:
                    status, answer = fake.analyze(self.path, body)
                    content_type, data = "application/json; charset=UTF-8", json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
