"""The proxy's own HTML pages: /docs (the API, from the OpenAPI description, offline) and /benchmarks/ (the static
sites `benchmark-present` writes, a list of suites, and how to make one when there is none)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope


def api_page(openapi: dict[str, Any]) -> str:
    """A self-contained HTML page listing every route of the OpenAPI description with its summary."""
    info = openapi.get("info", {})
    rows = []
    for path, operations in sorted(openapi.get("paths", {}).items()):
        for method, operation in operations.items():
            summary = operation.get("summary", "")
            detail = (operation.get("description") or "").strip().splitlines()
            rows.append(
                f"<tr><td><code>{html.escape(method.upper())}</code></td><td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(summary)}</td><td>{html.escape(detail[0] if detail else '')}</td></tr>"
            )
    title = html.escape(f"{info.get('title', 'API')} {info.get('version', '')}".strip())
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title>"
        "<style>body{font:15px sans-serif;margin:2em}td{padding:.3em .8em;vertical-align:top}"
        "tr:nth-child(even){background:#f3f3f3}</style></head><body>"
        f"<h1>{title}</h1><p>{html.escape(info.get('description', ''))}</p>"
        '<p>The full description (schemas of every body): <a href="openapi.json">/openapi.json</a>. '
        'Authenticate with <code>Authorization: Bearer KEY</code> or <code>{"auth": {"api_key": KEY}}</code> '
        'in the body. Benchmark results: <a href="benchmarks/">/benchmarks/</a>.</p>'
        "<table><tr><th>method</th><th>path</th><th>summary</th><th>what it does</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )


class BenchmarkSites(StaticFiles):
    """The sites of `benchmark-present` under /benchmarks/: their files as they are (every link in them is
    relative), a list of the suites at the top, and a page saying how to make one when there is none yet."""

    def __init__(self, folder: Path) -> None:
        super().__init__(directory=folder, html=True, check_dir=False)
        self.folder = folder

    async def check_config(self) -> None:
        """Nothing to check once: the folder may appear later, and `get_response` looks every time."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if not self.folder.is_dir():
            return HTMLResponse(missing_sites_page(self.folder), status_code=404)
        if path in ("", ".") and not (self.folder / "index.html").is_file():
            return HTMLResponse(suites_page(self.folder))
        return await super().get_response(path, scope)


def suites_page(folder: Path) -> str:
    """The suites that have a site in `folder`, linked."""
    suites = sorted(p.name for p in folder.iterdir() if (p / "index.html").is_file())
    items = "".join(f'<li><a href="{html.escape(s)}/">{html.escape(s)}</a></li>' for s in suites)
    body = f"<ul>{items}</ul>" if suites else f"<p>{_HOW_TO_PRESENT}</p>"
    return _page("Benchmark results", body)


def missing_sites_page(folder: Path) -> str:
    """The 404 page of /benchmarks/ when its folder does not exist: how to make it."""
    return _page(
        "No benchmark results here yet",
        f"<p>This proxy serves the folder <code>{html.escape(str(folder))}</code> here, and it does not "
        f"exist yet.</p><p>{_HOW_TO_PRESENT}</p>",
    )


_HOW_TO_PRESENT = (
    "Run a suite and present it, from the folder the proxy was started in: "
    "<code>benchmark-run --suite demo -m simple/model1</code>, then <code>benchmark-present --suite demo</code> "
    "(it writes <code>benchmark_output/presentation/demo/</code>; for another folder, pass "
    "<code>--site-dir FOLDER/demo</code> and start the proxy with <code>--benchmarks-path FOLDER</code>)."
)


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
        "<style>body{font:15px sans-serif;margin:2em}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
