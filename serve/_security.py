"""`SecurityHeaders`: the headers that keep the proxy's pages from being framed, sniffed or made to run others' code.

Every response gets `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer` and
a Content-Security-Policy that allows only the proxy's own files (`'self'`): no other origin, no plugins, no
framing. Inline `<script>` and `<style>` elements are refused unless the page is HTML whose inline elements the
middleware hashes itself: the sites of `benchmark-present` carry their configuration in one inline script, and
/docs its style in one inline element, so an HTML answer is read whole, and the SHA-256 of each of its inline
elements is added to the policy. Anything injected into a page some other way (an attribute handler, a script
from elsewhere) still does not run. The web page (/) has no inline code at all.

It is a plain ASGI middleware, not Starlette's `BaseHTTPMiddleware`, so streams pass through unbuffered and a
client's disconnect still reaches the route.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_INLINE = re.compile(rb"<(script|style)>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
MAX_HASHED_PAGE = 8 * 1024 * 1024  # bytes of an HTML page read whole to hash its inline elements

FIXED_HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
}


def content_security_policy(script_hashes: list[str] = [], style_hashes: list[str] = []) -> str:  # noqa: B006
    """The policy: own files only, plus the inline elements whose hashes are given ('sha256-...')."""
    scripts = " ".join(["'self'", *(f"'{h}'" for h in script_hashes)])
    styles = " ".join(["'self'", *(f"'{h}'" for h in style_hashes)])
    return (
        f"default-src 'self'; script-src {scripts}; style-src {styles}; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def inline_hashes(html: bytes) -> tuple[list[str], list[str]]:
    """The CSP hashes ('sha256-<base64>') of the inline scripts and styles of an HTML page."""
    scripts: list[str] = []
    styles: list[str] = []
    for match in _INLINE.finditer(html):
        digest = "sha256-" + base64.b64encode(hashlib.sha256(match.group(2)).digest()).decode()
        (scripts if match.group(1).lower() == b"script" else styles).append(digest)
    return sorted(set(scripts)), sorted(set(styles))


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP response of `app`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        held: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if _is_html(message):
                    start = message  # held until the page is whole, to hash its inline elements
                    return
                await send(_with_headers(message, content_security_policy()))
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            held.append(message.get("body", b""))
            size = sum(len(part) for part in held)
            if message.get("more_body", False) and size <= MAX_HASHED_PAGE:
                return
            page = b"".join(held)
            policy = content_security_policy(*inline_hashes(page)) if size <= MAX_HASHED_PAGE else None
            await send(_with_headers(start, policy or content_security_policy()))
            start = None
            await send({**message, "body": page})

        await self.app(scope, receive, send_with_headers)


def _is_html(start: Message) -> bool:
    return any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in start.get("headers", []))


def _with_headers(start: Message, policy: str) -> Message:
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in FIXED_HEADERS]
    headers += list(FIXED_HEADERS.items())
    headers.append((b"content-security-policy", policy.encode()))
    return {**start, "headers": headers}
