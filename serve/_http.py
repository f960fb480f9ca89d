"""The proxy's HTTP API: the original REST API (/api/*), the OpenAI-compatible API (/v1/*), the web UI (/),
the benchmark results (/benchmarks/) and a description of the API (/docs, /openapi.json).

`build_http_app(service)` wires a `ProxyService` into a FastAPI app; the Ray Serve ingress serves it,
and tests serve it with uvicorn. The API key comes from `Authorization: Bearer <key>` or, as in the
original proxy, from the body's `{"auth": {"api_key": ...}}`. Never from the URL: URLs end up in access logs.
Every error is JSON in OpenAI's shape `{"error": {"message", "type", "param", "code"}}`, with OpenAI's statuses,
so the `openai` library raises its matching exception: 400 invalid request (which field, why; a limit names its
value and bound, see serve._limits), 401 unknown key, 403 not allowed, 404 unknown model or route, 405 wrong
method, 413 body too large, 429 quota or rate limit (with Retry-After, also an upstream's), 502 provider failure,
503 model unavailable here, 504 provider timeout, and 500 for a bug: "internal error" and a request id only, the
traceback in the log under that id. The key is checked first: a caller with a wrong key hears 401 whatever else
is wrong, and learns nothing about models or fields (unless the body holding the key cannot be read).
Every response carries the security headers of serve._security.
With `stream: true`, /v1 answers server-sent events as the provider produces the text (`_event_stream`):
the response starts with the first chunk, so every error up to then is still an ordinary error answer.

The pages are public, as the original proxy's static pages were: the web UI asks for a key itself,
/benchmarks/ serves the static sites `benchmark-present` writes, and /docs lists the routes from the
OpenAPI description (FastAPI's own /docs loads Swagger UI from a CDN, which an offline machine cannot reach).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi import Request as HttpRequest
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException

from bench import MercuryError, ModelUnavailableError, Request, UnknownModelError
from serve._errors import (
    AuthenticationError,
    InvalidRequestError,
    ProxyError,
    RequestTooLargeError,
    failure_error,
)
from serve._limits import RequestLimits, parse_json
from serve._openai_api import (
    ChatBody,
    CompletionBody,
    chat_response,
    chat_stream,
    completion_response,
    completion_stream,
)
from serve._pages import BenchmarkSites, api_page, home_page
from serve._provider_service import Answer, StreamItem
from serve._proxy_service import ProxyService
from serve._security import SecurityHeaders
from serve._wiring import DEFAULT_BENCHMARKS_PATH

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
T = TypeVar("T")
BodyT = TypeVar("BodyT", bound=BaseModel)
DISCONNECT_POLL_SECONDS = 0.25
"""How often a request that is still being worked on checks whether its client is still there."""


class ClientGoneError(ProxyError):
    """The client disconnected before its answer was ready; its work was cancelled (499, as nginx logs it)."""

    http_status = 499
    error_type = "client_closed_request"

    def __init__(self) -> None:
        super().__init__("the client closed the connection; the request was cancelled")


async def _unless_disconnected(http: HttpRequest, work: Awaitable[T]) -> T:
    """`work`'s value, or, when the client disconnects first, `work` cancelled (down to the provider's threads:
    serve._cancellation) and `ClientGoneError`. Serve cancels a disconnected request itself; uvicorn does not."""
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=DISCONNECT_POLL_SECONDS)
            if done:
                return task.result()
            if await http.is_disconnected():
                raise ClientGoneError()
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


class AccountChanges(BaseModel):
    """The `account` of PUT /api/account (which account: `api_key`, default the caller's) and POST (new)."""

    model_config = ConfigDict(extra="forbid")

    api_key: str | None = Field(default=None, repr=False, description="the account to change (admins)")
    description: str | None = None
    is_admin: bool | None = None
    quotas: dict[str, dict[str, int | None]] | None = Field(
        default=None, description="model group -> daily/monthly/total -> tokens (null: no limit)"
    )


def error_response(error: Exception) -> JSONResponse:
    """The JSON error answer (and status, and Retry-After) for any error a request can meet."""
    headers: dict[str, str] = {}
    if isinstance(error, ProxyError) and error.status != 500:
        status, body = error.status, error.openai_body()
        if error.retry_after_header is not None:
            headers["Retry-After"] = error.retry_after_header
    elif isinstance(error, UnknownModelError):
        status, body = 404, _body(str(error), "invalid_request_error", "model_not_found", param="model")
    elif isinstance(error, ModelUnavailableError):
        status, body = 503, _body(str(error), "model_unavailable", 503)
    elif isinstance(error, ValidationError | RequestValidationError):
        status, body = 400, _body(_describe(error), "invalid_request_error", 400, param=_first_field(error))
    elif isinstance(error, HTTPException) and error.status_code < 500:  # routing: 404, 405; static files: 416...
        status = error.status_code
        body = _body(_ROUTE_ERRORS.get(status, str(error.detail)), "invalid_request_error", status)
        headers.update(error.headers or {})
    elif isinstance(error, ValueError):  # a rule of the accounts (e.g. a quota's granularity)
        status, body = 400, _body(str(error), "invalid_request_error", 400)
    else:
        status, body = 500, _internal_error(error)
    return JSONResponse(body, status_code=status, headers=headers)


_ROUTE_ERRORS = {404: "unknown route", 405: "method not allowed on this route"}


def _internal_error(error: Exception) -> dict[str, Any]:
    """A bug's answer says only that it happened and under which id the log has its traceback: no path, process,
    address or message of the proxy's internals reaches the caller."""
    request_id = uuid.uuid4().hex
    logger.error("internal error, request id %s", request_id, exc_info=error)
    return _body(f"internal error (request id {request_id})", "server_error", 500)


async def _handle(_request: HttpRequest, error: Exception) -> Response:
    return error_response(error)


def _succeeded(answer: Answer) -> Answer:
    """The OpenAI-compatible API answers a provider's failure with an error (its status as OpenAI would use:
    see `failure_error`), not an empty choice list."""
    if not answer.result.success:
        raise failure_error(answer.result)
    return answer


async def _succeeding(items: AsyncGenerator[StreamItem, None]) -> AsyncGenerator[StreamItem, None]:
    """`items`, with a failed answer raised as `_succeeded` raises it; closes `items` when closed itself."""
    async with contextlib.aclosing(items):
        async for item in items:
            yield _succeeded(item) if isinstance(item, Answer) else item


async def _event_stream(events: AsyncGenerator[str, None]) -> StreamingResponse:
    """The SSE response of `events`, started once the first event is ready: an error before it (401, 404,
    429, a provider's failure, ...) is an ordinary error answer. An error after it ends the stream with an
    OpenAI-shaped `data: {"error": ...}` event, which the `openai` library raises as an APIError. A client
    that goes away cancels the response, which closes `events` and with them the provider's stream."""
    try:
        first = await anext(events)
    except BaseException:
        await events.aclose()
        raise

    async def stream() -> AsyncIterator[str]:
        try:
            yield first
            async for event in events:
                yield event
        except Exception as error:
            yield f"data: {bytes(error_response(error).body).decode()}\n\n"
        finally:
            await events.aclose()

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})


def _body(message: str, kind: str, code: int | str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def _describe(error: ValidationError | RequestValidationError) -> str:
    return "invalid request: " + "; ".join(
        f"field {'.'.join(map(str, e['loc'])) or '(body)'!r}: {e['msg']}" for e in error.errors()
    )


def _first_field(error: ValidationError | RequestValidationError) -> str | None:
    errors = error.errors()
    return ".".join(map(str, errors[0]["loc"])) if errors and errors[0]["loc"] else None


async def _json(http: HttpRequest) -> dict[str, Any]:
    """The body as a JSON object, read no further than `limits.max_body_bytes` and checked by `parse_json`.

    Raises:
        RequestTooLargeError, InvalidRequestError.
    """
    limits: RequestLimits = http.app.state.limits
    body = parse_json(await _read_body(http, limits.max_body_bytes), limits)
    if not isinstance(body, dict):
        raise InvalidRequestError(f"the body must be a JSON object, got {type(body).__name__}")
    return body


async def _read_body(http: HttpRequest, limit: int) -> bytes:
    """At most `limit` bytes: a larger declared length is refused before reading, a longer stream when it passes."""
    declared = http.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestTooLargeError(size=int(declared), limit=limit)
    parts: list[bytes] = []
    size = 0
    async for part in http.stream():
        size += len(part)
        if size > limit:
            raise RequestTooLargeError(size=None, limit=limit)
        parts.append(part)
    return b"".join(parts)


def _api_key(http: HttpRequest, body: dict[str, Any] | None = None) -> str:
    header = http.headers.get("authorization", "")
    if header.lower().startswith("bearer ") and header[7:].strip():
        return header[7:].strip()
    auth = (body or {}).get("auth")
    if isinstance(auth, dict) and isinstance(auth.get("api_key"), str) and auth["api_key"]:
        return str(auth["api_key"])
    raise AuthenticationError('missing API key: send "Authorization: Bearer <key>" or {"auth": {"api_key": ...}}')


async def _parsed(service: ProxyService, key: str, parse: Callable[[], T]) -> T:
    """`parse()`; when the body is invalid, the key is checked first, so a stranger hears 401, not 400."""
    try:
        return parse()
    except (ValidationError, InvalidRequestError):
        await service.authenticate(key)
        raise


async def _account_changes(http: HttpRequest, service: ProxyService) -> tuple[str, AccountChanges]:
    """The caller's key and the `account` changes of an account route's body (a bad body after the key check)."""
    body = await _json(http)
    key = _api_key(http, body)
    return key, await _parsed(service, key, lambda: AccountChanges.model_validate(body.get("account") or {}))


async def _openai_body(http: HttpRequest, service: ProxyService, kind: type[BodyT]) -> tuple[str, BodyT]:
    """The caller's key (from the header only, as OpenAI's API sends it) and the body checked as `kind`."""
    key = _api_key(http)
    raw = await _json(http)
    return key, await _parsed(service, key, lambda: kind.model_validate(raw))


def _field(body: dict[str, Any], name: str, kind: type) -> Any:
    value = body.get(name)
    if not isinstance(value, kind):
        raise InvalidRequestError(f"field {name!r} is required and must be a JSON {kind.__name__}")
    return value


def build_http_app(service: ProxyService, *, benchmarks_path: str | Path = DEFAULT_BENCHMARKS_PATH) -> FastAPI:
    """The FastAPI app of the proxy over `service`.

    Args:
        service: what the API routes call.
        benchmarks_path: the folder served at /benchmarks/ (`benchmark-present` writes one site per suite
            in it); it may appear, or change, while the proxy runs.
    """
    app = FastAPI(
        title="Mercury proxy",
        version="1",
        description="Language models behind one authenticated API.",
        docs_url=None,  # Swagger UI comes from a CDN; /docs below is a page that works offline
        redoc_url=None,
    )
    app.state.limits = service.limits
    for kind in (MercuryError, ValidationError, RequestValidationError, HTTPException, ValueError, Exception):
        app.add_exception_handler(kind, _handle)
    app.add_middleware(SecurityHeaders)
    _add_rest_routes(app, service)
    _add_openai_routes(app, service)
    _add_ui_routes(app, service)
    _add_docs_route(app)
    app.mount("/benchmarks", BenchmarkSites(Path(benchmarks_path)), name="benchmarks")
    return app


def _add_rest_routes(app: FastAPI, service: ProxyService) -> None:
    @app.get("/api/general_info")
    async def general_info() -> dict[str, Any]:
        """The proxy's models and whether each is served here."""
        return service.general_info()

    @app.get("/api/account")
    async def get_account(http: HttpRequest, all: bool = False) -> Any:
        """The caller's account (usage and quotas); every account with ?all=true (admins)."""
        key = _api_key(http)
        if all:
            return [a.model_dump() for a in await service.list_accounts(key)]
        return (await service.get_account(key)).model_dump()

    @app.put("/api/account")
    async def update_account(http: HttpRequest) -> Any:
        """Change an account: {"auth", "account": {"api_key"?, "description"?, "is_admin"?, "quotas"?}}."""
        key, changes = await _account_changes(http, service)
        updated = await service.update_account(
            key,
            changes.api_key,
            description=changes.description,
            is_admin=changes.is_admin,
            quotas=changes.quotas,  # type: ignore[arg-type]  # granularities are checked by Accounts
        )
        return updated.model_dump()

    @app.post("/api/account")
    async def create_account(http: HttpRequest) -> Any:
        """Create an account (admins): {"auth", "account": {"description"?, "is_admin"?, "quotas"?}}."""
        key, changes = await _account_changes(http, service)
        created = await service.create_account(
            key,
            description=changes.description or "",
            is_admin=bool(changes.is_admin),
            quotas=changes.quotas,  # type: ignore[arg-type]  # granularities are checked by Accounts
        )
        return created.model_dump()

    @app.post("/api/account/api_key")
    async def rotate_key(http: HttpRequest) -> Any:
        """A new key for the caller's account, or for {"api_key": ...} (admins); the old key stops working."""
        body = await _json(http)
        target = body.get("api_key")
        return (
            await service.rotate_key(_api_key(http, body), target if isinstance(target, str) else None)
        ).model_dump()

    @app.post("/api/request")
    async def make_request(http: HttpRequest) -> Any:
        """{"auth", "request": Request} -> RequestResult (with `cached`)."""
        body = await _json(http)
        key = _api_key(http, body)
        request = await _parsed(service, key, lambda: Request.model_validate(_field(body, "request", dict)))
        answer = await _unless_disconnected(http, service.make_request(key, request))
        return answer.result.model_dump(mode="json")

    @app.post("/api/requests")
    async def make_requests(http: HttpRequest) -> Any:
        """The batch endpoint: {"auth", "requests": [Request, ...]} -> {"results": [RequestResult, ...]}."""
        body = await _json(http)
        key = _api_key(http, body)
        requests = await _parsed(
            service, key, lambda: [Request.model_validate(r) for r in _field(body, "requests", list)]
        )
        results = await _unless_disconnected(http, service.make_requests(key, requests))
        return Response(
            '{"results":[' + ",".join(r.model_dump_json() for r in results) + "]}", media_type="application/json"
        )

    @app.post("/api/tokenize")
    async def tokenize(http: HttpRequest) -> Any:
        """{"auth", "request": {"model", "text"}} -> {"token_ids", "tokens"}."""
        body = await _json(http)
        key = _api_key(http, body)
        request = await _parsed(service, key, lambda: _field(body, "request", dict))
        model, text = await _parsed(service, key, lambda: (_field(request, "model", str), _field(request, "text", str)))
        return await service.tokenize(key, model, text)

    @app.post("/api/decode")
    async def decode(http: HttpRequest) -> Any:
        """{"auth", "request": {"model", "token_ids"}} -> {"text"}."""
        body = await _json(http)
        key = _api_key(http, body)
        model, ids = await _parsed(service, key, lambda: _decode_fields(body))
        return await service.decode(key, model, ids)

    @app.post("/api/toxicity")
    async def toxicity(http: HttpRequest) -> Any:
        """{"auth", "request": {"text_batch": [...]}} -> {"scores": [{attribute: score} | null, ...]}."""
        body = await _json(http)
        key = _api_key(http, body)
        texts = await _parsed(service, key, lambda: _field(_field(body, "request", dict), "text_batch", list))
        return {"scores": await service.score_toxicity(key, [str(t) for t in texts])}


def _decode_fields(body: dict[str, Any]) -> tuple[str, list[int]]:
    request = _field(body, "request", dict)
    ids = _field(request, "token_ids", list)
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise InvalidRequestError("field 'request.token_ids' must be a list of integers")
    return _field(request, "model", str), ids


def _add_openai_routes(app: FastAPI, service: ProxyService) -> None:
    @app.get("/v1/models")
    async def models(http: HttpRequest) -> Any:
        """The models this proxy serves, in OpenAI's list shape."""
        await service.authenticate(_api_key(http))
        data = [
            {"id": m["name"], "object": "model", "created": 0, "owned_by": m["provider"]}
            for m in service.general_info()["all_models"]
            if m["available"]
        ]
        return {"object": "list", "data": data}

    @app.post("/v1/completions")
    async def completions(http: HttpRequest) -> Any:
        """OpenAI's completions: prompt (or prompts), n, logprobs, echo, stop, stream."""
        key, body = await _openai_body(http, service, CompletionBody)
        if body.stream:
            streams = [_succeeding(service.stream_request(key, r)) for r in body.requests()]
            return await _event_stream(completion_stream(body, streams))
        answers = [_succeeded(await _unless_disconnected(http, service.make_request(key, r))) for r in body.requests()]
        return completion_response(body, answers)

    @app.post("/v1/chat/completions")
    async def chat_completions(http: HttpRequest) -> Any:
        """OpenAI's chat completions: messages, n, logprobs/top_logprobs, stop, stream."""
        key, body = await _openai_body(http, service, ChatBody)
        if body.stream:
            stream = _succeeding(service.stream_request(key, body.request()))
            return await _event_stream(chat_stream(body, stream))
        answer = _succeeded(await _unless_disconnected(http, service.make_request(key, body.request())))
        return chat_response(body, answer)


def _add_ui_routes(app: FastAPI, service: ProxyService) -> None:
    @app.get("/", include_in_schema=False)
    async def index() -> HTMLResponse:
        return HTMLResponse(home_page(service.general_info()["all_models"]))

    # the proxy's own files, then the results site's (site.css): one stylesheet for both, not a copy
    static = StaticFiles(directory=STATIC_DIR, packages=[("bench.presentation", "static")])
    app.mount("/static", static, name="static")


def _add_docs_route(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(api_page(app.openapi()))
