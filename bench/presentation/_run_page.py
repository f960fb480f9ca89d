"""One run's page: its figures, and its instances browsed page by page from chunked data files.

Instance rows are written as `data/rows_NNNN.js` (ROWS_PER_CHUNK rows each) and a search index as
`data/index_NNNN.js` (INDEX_ROWS_PER_CHUNK short lowercase texts each). Each file is a script that assigns
its part to a global, so the page loads only what it shows with <script> elements: that works from file://
(where Chromium blocks fetch of local files) and from any static host. A run of 100,000 instances opens
with one chunk of 100 rows; search loads the index chunks, not the rows.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from bench.presentation._html import fmt, fmt_cost, js_data, link, num, page, table
from bench.presentation._model import RunSummary
from bench.presentation._run_reader import RunData, run_slug
from bench.presentation._svg import calibration_chart

ROWS_PER_CHUNK = 100
"""Rows per data file: a page shows 20, and with real prompts (a few KB each) a file stays near 100-300 KB."""
INDEX_ROWS_PER_CHUNK = 5000
INDEX_TEXT_CHARS = 400
"""Characters of each row the search index keeps (id, perturbation, input, references, completions)."""


def write_run_data(data: RunData, folder: Path) -> None:
    """Write the run's row chunks, search index and run_spec.json into `folder`; records the counts."""
    data_dir = folder / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    for old in data_dir.glob("*.js"):
        old.unlink()
    rows = data.rows
    summary = data.summary
    summary.num_chunks = 0
    for k, start in enumerate(range(0, len(rows), ROWS_PER_CHUNK)):
        chunk = rows[start : start + ROWS_PER_CHUNK]
        _write_js(
            data_dir / f"rows_{k:04d}.js", f"(window.MERCURY_ROWS=window.MERCURY_ROWS||{{}})[{k}]={js_data(chunk)};"
        )
        summary.num_chunks = k + 1
    summary.num_index_chunks = 0
    main = summary.main_metric
    for k, start in enumerate(range(0, len(rows), INDEX_ROWS_PER_CHUNK)):
        entries = [
            [_search_text(row), row["metrics"].get(main) if main else None]
            for row in rows[start : start + INDEX_ROWS_PER_CHUNK]
        ]
        _write_js(
            data_dir / f"index_{k:04d}.js",
            f"(window.MERCURY_INDEX=window.MERCURY_INDEX||{{}})[{k}]={js_data(entries)};",
        )
        summary.num_index_chunks = k + 1
    (folder / "run_spec.json").write_text(
        json.dumps(data.run_spec, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _write_js(path: Path, text: str) -> None:
    path.write_text(text + "\n", encoding="utf-8")


def _search_text(row: dict[str, Any]) -> str:
    """What search looks in: id, perturbation, input, references and completions, lowercased and cut."""
    completions = [c for request in row["requests"] for c in request["completions"]]
    parts = [row["id"] or "", row["perturbation"] or "", row["input"], *(r[0] for r in row["references"]), *completions]
    return " ".join(str(p) for p in parts).lower()[:INDEX_TEXT_CHARS]


def run_page(run: RunSummary, suite: str) -> str:
    """The HTML of a run's page (written at runs/<slug>/index.html)."""
    facts = [
        ("model", escape(run.model)),
        (
            "scenario",
            f"{escape(run.scenario)} — {escape(run.description)}" if run.description else escape(run.scenario),
        ),
        ("group", link(f"../../groups/{run_slug(run.group)}.html", run.group)),
        ("adaptation", escape(run.method)),
        ("data augmentation", escape(run.augmentation or "none")),
        (
            "main metric",
            f"{escape(run.main_metric or '-')} = {fmt(run.main_value)}"
            + (" (lower is better)" if run.lower_is_better else ""),
        ),
        ("instances / requests / failed", f"{run.num_instances} / {run.num_requests} / {run.num_failed_requests}"),
        ("tokens", f"{fmt(run.prompt_tokens, 0)} prompt + {fmt(run.completion_tokens, 0)} completion"),
        ("estimated cost", fmt_cost(run.cost)),
        ("run time", f"{run.seconds:.1f} s (inference {run.inference_runtime:.1f} s, summed over requests)"),
        ("run spec", link("run_spec.json", "run_spec.json")),
    ]
    body = ['<dl class="facts">', *(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts), "</dl>"]
    if run.perturbations:
        body += ["<h2>Robustness and fairness</h2>", _perturbation_table(run)]
    if run.calibration:
        body += [
            f"<h2>Calibration</h2><p>ECE (10 bins): {fmt(run.ece)}</p>",
            calibration_chart([(run.model, [(b.confidence, b.accuracy) for b in run.calibration])]),
        ]
    body += ["<details><summary>All statistics</summary>", _stats_table(run), "</details>"]
    body += _instances_section(run)
    return page(run.name, "\n".join(body), root="../../", suite=suite, scripts=("run.js",), head=_run_config(run))


def _run_config(run: RunSummary) -> str:
    config = {
        "numRows": run.num_rows,
        "rowsPerChunk": ROWS_PER_CHUNK,
        "numChunks": run.num_chunks,
        "indexRowsPerChunk": INDEX_ROWS_PER_CHUNK,
        "numIndexChunks": run.num_index_chunks,
        "mainMetric": run.main_metric,
    }
    return f"\n<script>window.MERCURY_RUN={js_data(config)};</script>"


def _instances_section(run: RunSummary) -> list[str]:
    return [
        "<h2>Instances</h2>",
        '<div class="browser-controls">',
        '<input id="search" type="search" placeholder="Search id, input, reference, completion, perturbation…" '
        'aria-label="Search instances">',
        '<button id="prev" type="button">‹ Previous</button>',
        '<span id="page-info" aria-live="polite"></span>',
        '<button id="next" type="button">Next ›</button>',
        "</div>",
        '<div id="instances" class="instances"><noscript>The instance browser needs JavaScript.</noscript></div>',
    ]


def _perturbation_table(run: RunSummary) -> str:
    rows: list[list[str | tuple[str, str]]] = [
        [escape(p.perturbation), escape(p.kind), num(p.count, 0), num(p.original), num(p.perturbed), num(p.drop)]
        for p in run.perturbations
    ]
    worst = [("worst case, robustness", run.robustness_worst), ("worst case, fairness", run.fairness_worst)]
    rows += [[escape(name), "", "", "", num(value), ""] for name, value in worst if value is not None]
    metric = run.main_metric or "main metric"
    return table(["perturbation", "kind", "instances", f"{metric} original", f"{metric} perturbed", "drop"], rows)


def _stats_table(run: RunSummary) -> str:
    rows: list[list[str | tuple[str, str]]] = [
        [
            escape(s.metric),
            escape(s.split or "-"),
            escape(s.sub_split or "-"),
            escape(s.perturbation or "original"),
            num(s.count, 0),
            num(s.mean),
            num(s.stddev),
            num(s.min),
            num(s.max),
        ]
        for s in run.stats
        if not s.metric.startswith("_")
    ]
    return table(["metric", "split", "sub split", "perturbation", "count", "mean", "stddev", "min", "max"], rows)
