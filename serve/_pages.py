"""The proxy's own HTML pages: / (sign in, send a prompt, the models and whether each can be used now), /docs (the
API, from the OpenAPI description, offline) and /benchmarks/ (the static sites `benchmark-present` writes, a list of
suites, and how to make one when there is none).

Every page has the results site's layout and stylesheet: /static/site.css is the file `benchmark-present` writes
into each site (bench/presentation/static/, served beside serve/static/), not a copy, so the proxy's pages and the
results look like one product and change together. serve/static/style.css holds only what the results have no
use for (forms, shaded tokens)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope


def home_page(models: Sequence[dict[str, Any]]) -> str:
    """The web UI (/): sign in with an API key, send a prompt to an available model, see each token shaded by its
    probability and the account's usage; and every model of the proxy, the unavailable ones with the reason
    (`general_info`'s `unavailable_reason`, e.g. the credential to set; never a value).

    Args:
        models: `ProxyService.general_info()["all_models"]`.
    """
    available = [m for m in models if m.get("available")]
    options = "".join(f'<option value="{_attr(m["name"])}">{html.escape(m["name"])}</option>' for m in available)
    unavailable = [m for m in models if not m.get("available")]
    rows = "".join(
        "<tr>"
        f"<td>{html.escape(m['name'])}</td><td>{html.escape(str(m.get('provider', '')))}</td>"
        f'<td class="num">{int(m.get("context_window") or 0):,}</td>'
        + (
            '<td><span class="badge done">available</span></td>'
            if m.get("available")
            else '<td><span class="badge missing">unavailable</span> '
            f'<span class="reason">{html.escape(str(m.get("unavailable_reason") or ""))}</span></td>'
        )
        + "</tr>"
        for m in models
    )
    summary = f"{len(available)} of {len(models)} models can be used now"
    if unavailable:
        summary += "; an unavailable one says what it lacks"
    body = f"""
<p class="source">One authenticated entry point to every model: cached, rate-limited, with quotas per account.
Sign in with an API key (<code>proxy-server</code> prints the admin's once; an admin creates others).</p>
<section id="signin">
  <form id="signin-form" class="panel">
    <label>API key <input id="api-key" type="password" autocomplete="off" required></label>
    <button type="submit" id="signin-button">Sign in</button>
    <p class="error" id="signin-error"></p>
  </form>
</section>
<section id="workspace" hidden>
  <h2>Send a request</h2>
  <form id="request-form" class="panel">
    <label>Model <select id="model">{options}</select></label>
    <label>Prompt <textarea id="prompt" rows="5"></textarea></label>
    <div class="row">
      <label>Temperature <input id="temperature" type="number" min="0" max="2" step="0.1" value="0"></label>
      <label>Max tokens <input id="max-tokens" type="number" min="0" value="20"></label>
      <label>Completions <input id="num-completions" type="number" min="1" max="10" value="1"></label>
      <label>Top-k logprobs <input id="top-k" type="number" min="1" max="20" value="1"></label>
      <label class="wide">Stop sequences (comma separated) <input id="stop" type="text"></label>
    </div>
    <button type="submit" id="send">Send</button>
    <p class="error" id="request-error"></p>
  </form>
  <section id="results"></section>
  <h2>Usage</h2>
  <div class="table-wrap"><table id="usage-table"></table></div>
</section>
<h2>Models</h2>
<p id="models-summary">{html.escape(summary)}.</p>
<div class="table-wrap"><table id="models-table"><thead><tr><th>model</th><th>provider</th><th>context window</th>
<th>status</th></tr></thead><tbody>{rows}</tbody></table></div>
"""
    return page("Mercury proxy", body, scripts=("app.js",), stylesheets=("style.css",))


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
    title = f"{info.get('title', 'API')} {info.get('version', '')}".strip()
    body = (
        f"<p>{html.escape(info.get('description', ''))}</p>"
        '<p>The full description (schemas of every body): <a href="openapi.json">/openapi.json</a>. '
        'Authenticate with <code>Authorization: Bearer KEY</code> or <code>{"auth": {"api_key": KEY}}</code> '
        'in the body. Benchmark results: <a href="benchmarks/">/benchmarks/</a>.</p>'
        '<div class="table-wrap"><table><thead><tr><th>method</th><th>path</th><th>summary</th>'
        "<th>what it does</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>"
    )
    return page(title, body)


def page(title: str, body: str, *, scripts: Sequence[str] = (), stylesheets: Sequence[str] = ()) -> str:
    """A whole page in the results site's layout: its header (brand, place, navigation), `body` under the title,
    the site's stylesheet then `stylesheets` and `scripts` from /static/. Paths are absolute: the proxy serves its
    pages at its root, and no inline style or script is needed (the Content-Security-Policy allows the proxy's
    own files)."""
    nav = " ".join(f'<a href="{href}">{html.escape(text)}</a>' for href, text in _NAVIGATION)
    links = "".join(f'<link rel="stylesheet" href="/static/{_attr(s)}">' for s in ("site.css", *stylesheets))
    script_tags = "".join(f'<script src="/static/{_attr(s)}"></script>' for s in scripts)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · Mercury</title>
<link rel="icon" href="data:,">{links}
</head><body>
<header><span class="brand">Mercury</span> <span class="suite">proxy</span> <span id="who" class="suite"></span>
<nav>{nav}</nav></header>
<main>
<h1>{html.escape(title)}</h1>
{body}
</main>
{script_tags}
</body></html>
"""


_NAVIGATION = (("/", "Models and prompts"), ("/benchmarks/", "Benchmark results"), ("/docs", "API"))


def _attr(text: str) -> str:
    return html.escape(text, quote=True)


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
    return page("Benchmark results", body)


def missing_sites_page(folder: Path) -> str:
    """The 404 page of /benchmarks/ when its folder does not exist: how to make it."""
    return page(
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
