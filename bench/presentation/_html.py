"""Small HTML helpers shared by the pages: the layout, tables and number formats.

Every page links only to relative paths and to the site's own assets, so the site works from the files
alone (file://), from any static host, and under a prefix such as the proxy's /benchmarks/.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from typing import Any

Cell = str | tuple[str, str]
"""A table cell: HTML, or (HTML, class) for a cell with a class (e.g. 'num')."""


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a table: '-' when absent, few digits, thousands separated for large ones."""
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def fmt_cost(value: float | None) -> str:
    """Dollars (HTML): '-' when unknown (model without prices), otherwise four decimals; a cost too small for them
    reads '<$0.0001', so that $0.0000 never suggests a free model."""
    if value is None:
        return "-"
    return "&lt;$0.0001" if 0 < value < 0.00005 else f"${value:,.4f}"


def num(value: float | None, digits: int = 3) -> tuple[str, str]:
    """A right-aligned numeric cell (sortable by its text)."""
    return fmt(value, digits), "num"


def link(href: str, text: str) -> str:
    return f'<a href="{escape(href, quote=True)}">{escape(text)}</a>'


def table(headers: Sequence[str], rows: Sequence[Sequence[Cell]], *, sortable: bool = True, caption: str = "") -> str:
    """A table; headers are plain text, cells HTML. Sortable tables sort when a header is clicked."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            html, cls = cell if isinstance(cell, tuple) else (cell, "")
            cells.append(f'<td class="{cls}">{html}</td>' if cls else f"<td>{html}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    cls = ' class="sortable"' if sortable else ""
    return (
        f'<div class="table-wrap"><table{cls}>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def page(title: str, body: str, *, root: str, suite: str, scripts: Sequence[str] = (), head: str = "") -> str:
    """A full page: header with the suite's navigation, the body, the site's CSS and scripts."""
    nav = " ".join(
        [
            link(f"{root}index.html", "Leaderboard"),
            link(f"{root}runs.html", "Runs"),
            link(f"{root}status.txt", "status.txt"),
            link(f"{root}summary.json", "summary.json"),
        ]
    )
    script_tags = "".join(f'<script src="{root}assets/{escape(s)}"></script>' for s in ("table.js", *scripts))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · Mercury</title>
<link rel="stylesheet" href="{root}assets/site.css">{head}
</head><body>
<header><span class="brand">Mercury</span> <span class="suite">suite {escape(suite)}</span><nav>{nav}</nav></header>
<main>
<h1>{escape(title)}</h1>
{body}
</main>
{script_tags}
</body></html>
"""


def js_data(value: Any) -> str:
    """`value` as a JavaScript literal, safe inside a <script> element and in a .js file."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
