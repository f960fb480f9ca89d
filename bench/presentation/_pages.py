"""The suite's pages: the leaderboard (index.html), the list of runs, and one page per scenario group.

The leaderboard holds the views a researcher compares models with: mean win rate and main metric per group,
accuracy against cost, efficiency and cost per model, robustness and fairness drops, calibration curves,
and the status of the suite's runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bench.presentation._html import fmt, fmt_cost, link, num, page, table
from bench.presentation._model import Cell, GroupTable, PairedComparison, RunSummary, SuiteSummary
from bench.presentation._summary import group_means
from bench.presentation._svg import bar_chart, calibration_chart, scatter_chart

Row = list[str | tuple[str, str]]


def index_page(summary: SuiteSummary) -> str:
    """The leaderboard page."""
    parts = [f'<p class="source">{len(summary.runs)} runs read from {escape(summary.source)}.</p>']
    parts += _status_section(summary)
    if not summary.runs:
        parts.append("<p>No complete run yet: a run is complete when its stats.json is written.</p>")
        return page(f"Suite {summary.suite}", "\n".join(parts), root="", suite=summary.suite)
    parts += _leaderboard_section(summary)
    parts += _groups_section(summary)
    parts += _cost_section(summary)
    parts += _robustness_section(summary.runs)
    parts += _calibration_section(summary.runs)
    return page(f"Suite {summary.suite}", "\n".join(parts), root="", suite=summary.suite)


def _status_section(summary: SuiteSummary) -> list[str]:
    status = summary.status
    if status is None:
        return []
    counts = status.counts()
    items = "".join(
        f'<span class="badge {name}">{name} {counts.get(name, 0)}</span>'
        for name in ("done", "running", "failed", "missing")
    )
    return [f'<p class="status">Runs of the suite: {items} {link("status.txt", "details")}</p>']


def _leaderboard_section(summary: SuiteSummary) -> list[str]:
    means = group_means(summary.groups)
    averaged = [g.name for g in summary.groups if any(v is not None for v in means[g.name].values())]
    headers = ["model", "mean win rate", "mean of the group columns", *(f"{g.name}" for g in summary.groups)]
    rows: list[Row] = []
    for model in summary.models:
        mean = fmt(model.mean_main)
        if model.mean_main is not None and model.main_groups < len(averaged):
            mean += f' <span class="stderr">({model.main_groups} of {len(averaged)} groups)</span>'
        row: Row = [escape(model.model), num(model.mean_win_rate), (mean, "num")]
        row += [num(means[g.name].get(model.model)) for g in summary.groups]
        rows.append(row)
    categories = [g.name for g in summary.groups]
    series = [(m.model, [means[g].get(m.model) for g in categories]) for m in summary.models]
    return [
        "<h2>Leaderboard</h2>",
        "<p>Win rate: the share of other models a model beats on each scenario's main metric, averaged. "
        "A group column averages the higher-is-better main metrics of the group's scenarios (lower-is-better ones, "
        "such as bits per byte, are left out: '-' when a group has only those); the mean of the group columns "
        "averages the group columns the model has a value in, each group once. Each group's page "
        "gives every value with its 95% confidence interval and says which differences between two models are "
        "within noise (a paired test on the same instances).</p>",
        table(headers, rows),
        "<figure><figcaption>Main metric per model and scenario group</figcaption>",
        bar_chart(categories, series, "main metric"),
        "</figure>",
    ]


def _groups_section(summary: SuiteSummary) -> list[str]:
    rows: list[Row] = [
        [
            link(f"groups/{g.slug}.html", g.name),
            num(len(g.columns), 0),
            num(len(g.models), 0),
            escape(", ".join(sorted(set(g.metrics)))),
        ]
        for g in summary.groups
    ]
    return ["<h2>Scenario groups</h2>", table(["group", "scenarios", "models", "main metrics"], rows)]


def _cost_section(summary: SuiteSummary) -> list[str]:
    rows: list[Row] = [
        [
            escape(m.model),
            num(m.num_runs, 0),
            num(m.num_instances, 0),
            num(m.prompt_tokens, 0),
            num(m.completion_tokens, 0),
            (fmt_cost(m.cost), "num"),
            num(m.inference_runtime, 1),
            num(m.failed_requests, 0),
        ]
        for m in summary.models
    ]
    parts = [
        "<h2>Efficiency and cost</h2>",
        "<p>Tokens of every request of the suite's runs; cost estimated at the prices of "
        "configs/model_deployments.yaml ('-' for a model without prices).</p>",
        table(
            [
                "model",
                "runs",
                "instances",
                "prompt tokens",
                "completion tokens",
                "estimated cost",
                "inference seconds",
                "failed requests",
            ],
            rows,
        ),
    ]
    scored = [m for m in summary.models if m.mean_main is not None]
    if scored:
        use_cost = any((m.cost or 0) > 0 for m in scored)
        points = [
            (m.model, (m.cost or 0.0) if use_cost else m.prompt_tokens + m.completion_tokens, m.mean_main or 0.0)
            for m in scored
        ]
        x_label = "estimated cost ($)" if use_cost else "tokens (no model has prices)"
        parts += [
            "<figure><figcaption>Mean of the group columns against cost</figcaption>",
            scatter_chart(points, x_label, "mean of the group columns"),
            "</figure>",
        ]
    return parts


def _robustness_section(runs: Sequence[RunSummary]) -> list[str]:
    perturbed = [r for r in runs if r.perturbations]
    if not perturbed:
        return []
    rows: list[Row] = []
    drops: dict[str, dict[str, list[float]]] = {}
    for run in perturbed:
        for p in run.perturbations:
            rows.append(
                [
                    link(f"runs/{run.slug}/index.html", run.column),
                    escape(run.model),
                    escape(p.perturbation),
                    escape(p.kind),
                    num(p.count, 0),
                    num(p.original),
                    num(p.perturbed),
                    num(p.drop),
                ]
            )
            if p.drop is not None:
                drops.setdefault(p.perturbation, {}).setdefault(run.model, []).append(p.drop)
    worst: list[Row] = [
        [
            link(f"runs/{r.slug}/index.html", r.column),
            escape(r.model),
            escape(r.main_metric or "-"),
            num(r.main_value),
            num(r.robustness_worst),
            num(r.fairness_worst),
        ]
        for r in perturbed
    ]
    models = sorted({r.model for r in perturbed})
    categories = sorted(drops)
    series = [(m, [_mean(drops[c].get(m)) for c in categories]) for m in models]
    return [
        "<h2>Robustness and fairness</h2>",
        "<p>The main metric on perturbed instances against the same instances unperturbed; the worst case takes, "
        "per instance, the lowest score over the original and its perturbations (HELM's definition).</p>",
        table(
            ["scenario", "model", "main metric", "original", "worst case (robustness)", "worst case (fairness)"], worst
        ),
        "<figure><figcaption>Drop of the main metric per perturbation (original minus perturbed)</figcaption>",
        bar_chart(categories, series, "drop"),
        "</figure>",
        "<details><summary>Every perturbation of every run</summary>",
        table(["scenario", "model", "perturbation", "kind", "instances", "original", "perturbed", "drop"], rows),
        "</details>",
    ]


def _mean(values: list[float] | None) -> float | None:
    return sum(values) / len(values) if values else None


def _calibration_section(runs: Sequence[RunSummary]) -> list[str]:
    calibrated = [r for r in runs if r.calibration]
    if not calibrated:
        return []
    rows: list[Row] = [
        [
            link(f"runs/{r.slug}/index.html", r.column),
            escape(r.model),
            num(r.ece),
            num(sum(b.count for b in r.calibration), 0),
        ]
        for r in calibrated
    ]
    curves = [(f"{r.model} · {r.column}", [(b.confidence, b.accuracy) for b in r.calibration]) for r in calibrated]
    return [
        "<h2>Calibration</h2>",
        "<p>Expected calibration error over 10 equal-width confidence bins, "
        "and accuracy against confidence per bin.</p>",
        table(["scenario", "model", "ECE (10 bins)", "instances"], rows),
        "<figure><figcaption>Calibration curves (the diagonal is perfect calibration)</figcaption>",
        calibration_chart(curves[:9]),
        "</figure>",
    ]


def runs_page(summary: SuiteSummary) -> str:
    """Every run with its main figures, linking to the run's page."""
    rows: list[Row] = [
        [
            link(f"runs/{r.slug}/index.html", r.name),
            escape(r.model),
            escape(r.group),
            escape(r.main_metric or "-"),
            (
                fmt(r.main_value)
                + _uncertainty(
                    Cell(
                        value=r.main_value,
                        stderr=r.main_stderr,
                        ci_low=r.main_ci_low,
                        ci_high=r.main_ci_high,
                        failed=r.num_failed_requests,
                    )
                ),
                "num",
            ),
            num(r.num_instances, 0),
            num(r.num_requests, 0),
            num(r.num_failed_requests, 0),
            num(r.prompt_tokens, 0),
            num(r.completion_tokens, 0),
            (fmt_cost(r.cost), "num"),
            num(r.seconds, 1),
        ]
        for r in summary.runs
    ]
    headers = ["run", "model", "group", "main metric", "value", "instances", "requests", "failed",
               "prompt tokens", "completion tokens", "cost", "seconds"]  # fmt: skip
    return page("Runs", table(headers, rows), root="", suite=summary.suite)


def group_page(group: GroupTable, runs: Sequence[RunSummary], suite: str) -> str:
    """A scenario group: models as rows, the main metric of each scenario as columns, then every metric."""
    headers = [
        "model",
        *(
            f"{c} ({m}{' ↓' if lower else ''})"
            for c, m, lower in zip(group.columns, group.metrics, group.lower_is_better)
        ),
    ]
    rows: list[Row] = []
    for i, model in enumerate(group.models):
        row: Row = [escape(model)]
        for cell in group.cells[i]:
            text = fmt(cell.value)
            value = link(f"../runs/{cell.run_slug}/index.html", text) if cell.run_slug else text
            row.append((value + _uncertainty(cell), "num"))
        rows.append(row)
    series = [(model, [c.value for c in group.cells[i]]) for i, model in enumerate(group.models)]
    parts = [
        "<p>Each value is the mean over instances ± its standard error, with its 95% confidence interval (normal) "
        'on hover. A run marked <span class="failed">⚠</span> is complete with failed requests, which were '
        "allowed by --max-failed-fraction: its main metric is over the answered instances.</p>",
        table(headers, rows),
        "<figure><figcaption>Main metric per scenario and model</figcaption>",
        bar_chart(group.columns, series, "main metric"),
        "</figure>",
        *_comparisons_section(group.comparisons),
    ]
    by_column: dict[str, list[RunSummary]] = {}
    for run in runs:
        if run.group == group.name:
            by_column.setdefault(run.column, []).append(run)
    for column in group.columns:
        parts += [
            f"<h2>{escape(column)}</h2>",
            "<details><summary>Every metric of the original instances</summary>",
            _metrics_by_model(by_column.get(column, [])),
            "</details>",
        ]
    return page(f"Group {group.name}", "\n".join(parts), root="../", suite=suite)


def _uncertainty(cell: Cell) -> str:
    """` ±0.012` with the interval on hover, and a mark for a run with failed requests."""
    html = ""
    if cell.stderr is not None and cell.ci_low is not None and cell.ci_high is not None:
        title = f"95% CI [{fmt(cell.ci_low)}, {fmt(cell.ci_high)}]"
        html += f' <span class="stderr" title="{escape(title, quote=True)}">±{fmt(cell.stderr)}</span>'
    if cell.failed:
        html += f' <span class="failed" title="{cell.failed} failed requests">⚠ {cell.failed} failed</span>'
    return html


def _comparisons_section(comparisons: Sequence[PairedComparison]) -> list[str]:
    """Model A against model B per scenario: paired difference, its interval, and whether it is noise."""
    if not comparisons:
        return []
    rows: list[Row] = [
        [
            escape(c.column),
            escape(c.model_a),
            escape(c.model_b),
            num(c.count, 0),
            num(c.mean_difference),
            num(c.stderr),
            (f"[{fmt(c.ci_low)}, {fmt(c.ci_high)}]", "num"),
            escape(_verdict(c)),
        ]
        for c in comparisons
    ]
    return [
        "<h2>Differences between models</h2>",
        "<p>Model A minus model B on the main metric, paired over the instances both runs answered: the mean "
        "difference, its standard error and 95% confidence interval (normal). The difference is within noise "
        "when the interval contains 0.</p>",
        table(["scenario", "model A", "model B", "instances", "A - B", "stderr", "95% CI", "verdict"], rows),
    ]


def _verdict(comparison: PairedComparison) -> str:
    if comparison.within_noise:
        return "within noise"
    higher = comparison.model_a if comparison.mean_difference > 0 else comparison.model_b
    return f"{higher} higher"


def _metrics_by_model(runs: Sequence[RunSummary]) -> str:
    """Every public metric of the original instances (evaluation split) of a scenario, one column per model."""
    values: dict[str, dict[str, float | None]] = {}
    for run in runs:
        split = next((s.split for s in run.stats if s.metric == run.main_metric), None)
        for s in run.stats:
            if s.perturbation is None and s.sub_split is None and s.split == split and not s.metric.startswith("_"):
                values.setdefault(s.metric, {})[run.model] = s.mean
    models = [r.model for r in runs]
    rows: list[Row] = [[escape(metric), *(num(values[metric].get(m)) for m in models)] for metric in values]
    return table(["metric", *models], rows)
