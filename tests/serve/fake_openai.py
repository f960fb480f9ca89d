"""A real HTTP server on 127.0.0.1 that speaks OpenAI's /v1/completions and /v1/chat/completions JSON.

The model is deterministic, so tests can check every value by hand:
- the prompt is split into tokens by `split_tokens` (each run of spaces joins the word after it);
  echoed prompt tokens have logprob -1.0 each, the first None (nothing precedes it);
- completion i repeats COMPLETION_WORDS (starting at word i when temperature > 0) up to max_tokens
  tokens; token j has logprob -0.1 * (j + 1); its top_logprobs are itself and " alt1", " alt2", ...
  with logprob minus 1, minus 2, ...; the text stops before the first stop sequence (finish_reason 'stop').

`latency` (seconds) delays every answer, as a hosted model's would be (the benchmarks use 0.1 s).
Faults are queued with `fail_next(...)`: a status (429 with Retry-After, 500, 400 with a message), a
delay, or a dropped connection; each request takes the next queued fault, then the server answers normally.
Every request is recorded (path, JSON body, Authorization header, arrival time) in `requests`.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

COMPLETION_WORDS = [" Paris", " is", " the", " capital", "."]
PROMPT_LOGPROB = -1.0


def split_tokens(text: str) -> list[str]:
    """The fake tokenizer: leading spaces stay with the word that follows."""
    return re.findall(r"\s*\S+|\s+", text)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the listen backlog: socketserver's 5 refuses a burst of 32 new connections


@dataclass
class Fault:
    """What to do instead of (or before) answering one request."""

    status: int | None = None
    message: str = "fault injected"
    retry_after: str | None = None
    delay: float = 0.0
    drop: bool = False


@dataclass
class Recorded:
    path: str
    body: dict[str, Any]
    authorization: str | None
    at: float = 0.0  # time.monotonic() when the request arrived (rate limits are checked on these)


Route = Callable[[dict[str, Any]], dict[str, Any]]


class FakeServer:
    """A threaded HTTP server with JSON routes, queued faults and a request log; use as a context manager."""

    def __init__(self, routes: dict[str, Route], api_key: str | None = None, latency: float = 0.0) -> None:
        self.routes = routes
        self.api_key = api_key
        self.latency = latency
        self.faults: deque[Fault] = deque()
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def fail_next(self, *faults: Fault) -> None:
        """Queue faults: the next requests take them in order."""
        with self._lock:
            self.faults.extend(faults)

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self.faults.popleft() if self.faults else None

    def auth_error(self, authorization: str | None) -> dict[str, Any] | None:
        """An error body when a key is required and the request's is wrong; None when it is fine."""
        if self.api_key is None or authorization == f"Bearer {self.api_key}":
            return None
        shown = (authorization or "")[7:]
        # like OpenAI, the message echoes a partly masked key: the client must scrub it
        return {"error": {"message": f"Incorrect API key provided: {shown[:5]}****{shown[-4:]}.", "code": 401}}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # TCP_NODELAY, as real servers set it: headers and body go out in two writes, and without it
            # Nagle's algorithm holds the body until the client's delayed ACK, ~40 ms on every answer
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    arrived = Recorded(self.path, body, self.headers.get("Authorization"), time.monotonic())
                    server.requests.append(arrived)
                if server.latency:
                    time.sleep(server.latency)
                fault = server._next_fault()
                if fault is not None:
                    time.sleep(fault.delay)
                    if fault.drop:
                        self.close_connection = True
                        self.connection.close()
                        return
                    if fault.status is not None:
                        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                        self._send(fault.status, {"error": {"message": fault.message, "type": "test"}}, headers)
                        return
                auth = server.auth_error(self.headers.get("Authorization"))
                if auth is not None:
                    self._send(401, auth)
                    return
                route = server.routes.get(self.path.split("?")[0])
                if route is None:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                self._send(200, route(body))

            def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler


def completion_tokens(body: dict[str, Any], index: int) -> tuple[list[str], str, str]:
    """The fake model's tokens, text and finish reason for completion `index`."""
    start = index if body.get("temperature", 1.0) > 0 else 0
    words = [COMPLETION_WORDS[(start + j) % len(COMPLETION_WORDS)] for j in range(body.get("max_tokens") or 16)]
    stops = body.get("stop") or []
    stops = [stops] if isinstance(stops, str) else stops
    text = "".join(words)
    cut = min((text.find(s) for s in stops if s in text), default=-1)
    if cut < 0:
        return words, text, "length"
    kept, length = [], 0
    for word in words:
        if length + len(word) > cut:
            break
        kept.append(word)
        length += len(word)
    return kept, text[:cut], "stop"


def top_of(token: str, logprob: float, k: int) -> dict[str, float]:
    return {token: logprob, **{f" alt{j}": logprob - j for j in range(1, k)}}


def _completions(body: dict[str, Any]) -> dict[str, Any]:
    k = body.get("logprobs") or 0
    prompt = body["prompt"]
    choices = []
    for i in range(body.get("n", 1)):
        words, text, finish = completion_tokens(body, i)
        tokens = list(words)
        values: list[float | None] = [-0.1 * (j + 1) for j in range(len(words))]
        tops: list[dict[str, float] | None] = [top_of(w, v or 0.0, k) for w, v in zip(words, values)]
        if body.get("echo"):
            prompt_tokens = split_tokens(prompt)
            tokens = prompt_tokens + tokens
            values = [None] + [PROMPT_LOGPROB] * (len(prompt_tokens) - 1) + values
            tops = [None] + [top_of(t, PROMPT_LOGPROB, k) for t in prompt_tokens[1:]] + tops
            text = prompt + text
        offsets = [sum(len(t) for t in tokens[:j]) for j in range(len(tokens))]
        logprobs = {"tokens": tokens, "token_logprobs": values, "top_logprobs": tops, "text_offset": offsets}
        choices.append({"text": text, "index": i, "logprobs": logprobs if k else None, "finish_reason": finish})
    return {
        "id": "cmpl-fake",
        "object": "text_completion",
        "created": 1700000000,
        "model": body["model"],
        "choices": choices,
        "usage": {"prompt_tokens": len(split_tokens(prompt)), "completion_tokens": 0, "total_tokens": 0},
    }


def _chat(body: dict[str, Any]) -> dict[str, Any]:
    k = body.get("top_logprobs") or 0
    choices = []
    for i in range(body.get("n", 1)):
        words, text, finish = completion_tokens(body, i)
        content = [
            {
                "token": w,
                "logprob": -0.1 * (j + 1),
                "bytes": list(w.encode()),
                "top_logprobs": [
                    {"token": t, "logprob": v, "bytes": None} for t, v in top_of(w, -0.1 * (j + 1), k).items()
                ],
            }
            for j, w in enumerate(words)
        ]
        choices.append(
            {
                "index": i,
                "message": {"role": "assistant", "content": text},
                "logprobs": {"content": content} if body.get("logprobs") else None,
                "finish_reason": finish,
            }
        )
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1700000000,
        "model": body["model"],
        "choices": choices,
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


class FakeOpenAI(FakeServer):
    """The fake OpenAI-compatible server; `base_url` is what a client's base URL should be."""

    def __init__(self, api_key: str | None = None, latency: float = 0.0) -> None:
        super().__init__(
            {"/v1/completions": _completions, "/v1/chat/completions": _chat}, api_key=api_key, latency=latency
        )

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"


def serve_until_killed(latency: float, connection: Any) -> None:
    """Run a FakeOpenAI in this process until it is killed; its base URL is sent on `connection` (a Pipe end).
    The target of `fake_openai_process`: a server in its own process, as a real one would be."""
    with FakeOpenAI(latency=latency) as fake:
        connection.send(fake.base_url)
        threading.Event().wait()


@contextmanager
def fake_openai_process(latency: float = 0.0) -> Iterator[str]:
    """A FakeOpenAI in a process of its own (it shares no GIL with the caller); yields its base URL."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=serve_until_killed, args=(latency, sender), daemon=True)
    process.start()
    try:
        yield receiver.recv()
    finally:
        process.kill()
        process.join()
