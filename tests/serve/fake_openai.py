"""A real HTTP server on 127.0.0.1 that speaks OpenAI's /v1/completions and /v1/chat/completions JSON.

The model is deterministic, so tests can check every value by hand:
- the prompt is split into tokens by `split_tokens` (each run of spaces joins the word after it);
  echoed prompt tokens have logprob -1.0 each, the first None (nothing precedes it);
- completion i repeats COMPLETION_WORDS (starting at word i when temperature > 0) up to max_tokens
  tokens; token j has logprob -0.1 * (j + 1); its top_logprobs are itself and " alt1", " alt2", ...
  with logprob minus 1, minus 2, ...; the text stops before the first stop sequence (finish_reason 'stop').

With `"stream": true` the answer comes as OpenAI streams it: server-sent events `data: {chunk}` over a
chunked response, one chunk per token (choices interleaved; completions start with the echoed prompt, chat
with the role), a last chunk per choice with its finish reason, a usage chunk (`choices: []`) when
`stream_options.include_usage` is set, and `data: [DONE]`. `hold_streams()` makes each stream wait after
its first token until the test releases it; `stream_outcomes` records how each stream ended ("completed",
or "aborted" when the client closed the connection before the end).

`latency` (seconds) delays every answer, as a hosted model's would be (the benchmarks use 0.1 s).
Faults are queued with `fail_next(...)`: a status (429 with Retry-After, 500, 400 with a message), a
delay, or a dropped connection; each request takes the next queued fault as it arrives, then the server answers
normally. `max_in_flight` counts the most requests the server was answering at once.
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
from pathlib import Path
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
StreamRoute = Callable[[dict[str, Any]], list[dict[str, Any]]]
GATE_TIMEOUT = 60.0  # seconds a held stream waits for its release before going on (and saying so)


class FakeServer:
    """A threaded HTTP server with JSON routes, queued faults and a request log; use as a context manager."""

    def __init__(
        self,
        routes: dict[str, Route],
        api_key: str | None = None,
        latency: float = 0.0,
        stream_routes: dict[str, StreamRoute] | None = None,
    ) -> None:
        self.routes = routes
        self.stream_routes = stream_routes or {}
        self.gate: threading.Event | None = None
        self.gate_timed_out = False
        self.chunk_delay = 0.0
        self.stream_outcomes: list[str] = []
        self.stream_ended = threading.Event()
        self.api_key = api_key
        self.latency = latency
        self.faults: deque[Fault] = deque()
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.max_in_flight = 0
        """The most requests the server was answering at once (since the start or `reset_counts`)."""
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def reset_counts(self) -> None:
        """Start counting `max_in_flight` again from the requests in flight now."""
        with self._lock:
            self.max_in_flight = self.in_flight

    def fail_next(self, *faults: Fault) -> None:
        """Queue faults: the next requests take them in order."""
        with self._lock:
            self.faults.extend(faults)

    def hold_streams(self, chunk_delay: float = 0.0) -> threading.Event:
        """Make each stream wait after its first token until the returned event is set (at most GATE_TIMEOUT s,
        after which `gate_timed_out` is true); then chunks follow `chunk_delay` seconds apart."""
        self.gate = threading.Event()
        self.chunk_delay = chunk_delay
        self.stream_ended.clear()
        return self.gate

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

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
                with server._lock:  # the fault too, so that requests take them in the order they arrived
                    arrived = Recorded(self.path, body, self.headers.get("Authorization"), time.monotonic())
                    server.requests.append(arrived)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                    fault = server.faults.popleft() if server.faults else None
                try:
                    self._answer(body, fault)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self, body: dict[str, Any], fault: Fault | None) -> None:
                if server.latency:
                    time.sleep(server.latency)
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
                path = self.path.split("?")[0]
                if body.get("stream") and path in server.stream_routes:
                    self._stream(server.stream_routes[path](body))
                    return
                route = server.routes.get(path)
                if route is None:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                self._send(200, route(body))

            def _stream(self, chunks: list[dict[str, Any]]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                events = [f"data: {json.dumps(c)}\n\n" for c in chunks] + ["data: [DONE]\n\n"]
                first_text = next((i for i, c in enumerate(chunks) if _text_of(c)), -1)
                try:
                    for number, event in enumerate(events):
                        data = event.encode()
                        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                        self.wfile.flush()
                        if number == first_text and server.gate is not None:  # after the first token
                            server.gate_timed_out |= not server.gate.wait(GATE_TIMEOUT)
                        elif number > first_text and server.chunk_delay:
                            time.sleep(server.chunk_delay)
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
                    outcome = "completed"
                except OSError:  # the client went away: broken pipe, connection reset
                    self.close_connection = True
                    outcome = "aborted"
                with server._lock:
                    server.stream_outcomes.append(outcome)
                server.stream_ended.set()

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


def _text_of(chunk: dict[str, Any]) -> str:
    choice = (chunk.get("choices") or [{}])[0]
    return str(choice.get("text") or (choice.get("delta") or {}).get("content") or "")


def _chunk_base(body: dict[str, Any], kind: str) -> dict[str, Any]:
    base: dict[str, Any] = {"id": f"{'chatcmpl' if kind == 'chat' else 'cmpl'}-fake", "created": 1700000000}
    base["object"] = "chat.completion.chunk" if kind == "chat" else "text_completion"
    base["model"] = body["model"]
    if (body.get("stream_options") or {}).get("include_usage"):
        base["usage"] = None
    return base


def _usage_chunk(body: dict[str, Any], base: dict[str, Any], completion: int) -> list[dict[str, Any]]:
    if "usage" not in base:
        return []
    prompt = len(split_tokens(body.get("prompt") or "x"))
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return [{**base, "choices": [], "usage": usage}]


def _completion_chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream of a /v1/completions answer: the echoed prompt, tokens (choices interleaved), finishes."""
    base = _chunk_base(body, "completions")
    k = body.get("logprobs") or 0
    n = body.get("n", 1)
    answers = [completion_tokens(body, i) for i in range(n)]
    chunks: list[dict[str, Any]] = []

    def chunk(index: int, text: str, logprob: float | None, finish: str | None = None) -> dict[str, Any]:
        logprobs = None
        if k and finish is None:
            top = top_of(text, logprob or 0.0, k) if logprob is not None else None
            logprobs = {"tokens": [text], "token_logprobs": [logprob], "top_logprobs": [top], "text_offset": [0]}
        return {**base, "choices": [{"text": text, "index": index, "logprobs": logprobs, "finish_reason": finish}]}

    if body.get("echo"):
        chunks += [chunk(i, body["prompt"], None) for i in range(n)]
    for j in range(max((len(words) for words, _, _ in answers), default=0)):
        chunks += [chunk(i, words[j], -0.1 * (j + 1)) for i, (words, _, _) in enumerate(answers) if j < len(words)]
    chunks += [chunk(i, "", None, finish) for i, (_, _, finish) in enumerate(answers)]
    return chunks + _usage_chunk(body, base, sum(len(words) for words, _, _ in answers))


def _chat_chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream of a /v1/chat/completions answer: the role, content tokens (choices interleaved), finishes."""
    base = {**_chunk_base(body, "chat"), "system_fingerprint": "fp_fake"}
    k = body.get("top_logprobs") or 0
    n = body.get("n", 1)
    answers = [completion_tokens(body, i) for i in range(n)]

    def chunk(index: int, delta: dict[str, Any], logprobs: Any = None, finish: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish}]}

    chunks = [chunk(i, {"role": "assistant", "content": "", "refusal": None}) for i in range(n)]
    for j in range(max((len(words) for words, _, _ in answers), default=0)):
        for i, (words, _, _) in enumerate(answers):
            if j < len(words):
                value = -0.1 * (j + 1)
                top = [{"token": t, "logprob": v, "bytes": None} for t, v in top_of(words[j], value, k).items()]
                item = {"token": words[j], "logprob": value, "bytes": list(words[j].encode()), "top_logprobs": top}
                logprobs = {"content": [item], "refusal": None} if body.get("logprobs") else None
                chunks.append(chunk(i, {"content": words[j]}, logprobs))
    chunks += [chunk(i, {}, None, finish) for i, (_, _, finish) in enumerate(answers)]
    return chunks + _usage_chunk(body, base, sum(len(words) for words, _, _ in answers))


class FakeOpenAI(FakeServer):
    """The fake OpenAI-compatible server; `base_url` is what a client's base URL should be."""

    def __init__(self, api_key: str | None = None, latency: float = 0.0) -> None:
        super().__init__(
            {"/v1/completions": _completions, "/v1/chat/completions": _chat},
            api_key=api_key,
            latency=latency,
            stream_routes={"/v1/completions": _completion_chunks, "/v1/chat/completions": _chat_chunks},
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


def fake_model_configs(folder: Path, base_url: str, extra: str = "") -> Path:
    """`folder`/configs, whose only model, vllm/fake-model, is served by the fake server at `base_url`; `extra`
    is appended to its entry (e.g. a `serving:` block)."""
    configs = folder / "configs"
    configs.mkdir(parents=True, exist_ok=True)
    (configs / "model_deployments.yaml").write_text(
        "model_deployments:\n"
        "  - name: vllm/fake-model\n"
        "    client: openai\n"
        "    tokenizer: openai/r50k_base\n"
        "    context_window: 2048\n"
        f"    client_args: {{base_url: '{base_url}', credential: null, model: fake-model}}\n" + extra
    )
    return configs
