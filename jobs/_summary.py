"""What `benchmark-run` prints at the end: a summary table of the runs, or the dry run's estimates."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bench import MetricName, Stat
from bench.models import get_deployment
from bench.runner import ALL_SUFFIX, FAILED_STAT, RunResult, RunTimings

HEADLINE_METRICS = (
    "exact_match",
    "quasi_exact_match",
    "f1_score",
    "rouge_l",
    "bits_per_byte",
    "perplexity",
    "ece_10_bin",
    "inference_runtime",
)
"""Metrics shown in the summary table when a run has them, in this order (at most four)."""


def headline_stats(stats: Sequence[Stat], limit: int = 4) -> list[Stat]:
    """The run's most telling Stats: unperturbed, whole evaluation split (test if present, else valid)."""
    by_name = _headline_by_name(stats)
    return [by_name[name] for name in HEADLINE_METRICS if name in by_name][:limit]


def _headline_by_name(stats: Sequence[Stat]) -> dict[str, Stat]:
    """The unperturbed whole-split Stats of the evaluation split (test if present, else valid), by metric name."""
    candidates = [s for s in stats if s.name.perturbation is None and s.name.sub_split is None and s.count]
    splits = {s.name.split for s in candidates}
    split = "test" if "test" in splits else "valid"
    return {s.name.name: s for s in candidates if s.name.split == split}


def summary_metrics(results: Sequence[RunResult], limit: int = 4) -> list[str]:
    """The metrics the summary shows for every run, the same for all runs of the table (one suite), so that
    rows compare: the `limit` headline metrics that the most runs have (ties: HEADLINE_METRICS's order), listed
    in HEADLINE_METRICS's order. A run without one of them shows it as not measured rather than another metric.
    """
    runs_having: dict[str, int] = dict.fromkeys(HEADLINE_METRICS, 0)
    for result in results:
        if result.error is None:
            for name in _headline_by_name(result.stats):
                if name in runs_having:
                    runs_having[name] += 1
    ranked = sorted((name for name, n in runs_having.items() if n), key=lambda name: -runs_having[name])
    chosen = set(ranked[:limit])  # sorted() is stable: ties keep HEADLINE_METRICS's order
    return [name for name in HEADLINE_METRICS if name in chosen]


def figure_line(stat: Stat, stats: Sequence[Stat]) -> str:
    """`name=mean ±stderr [95% interval] (count; N failed)`, and beside an accuracy figure whose slice has failed
    instances, the same figure with them counted as wrong (`name_all`)."""
    failed = _failed(stat, stats)
    line = f"{stat.name.name}={stat.uncertainty_str()}"
    line = line[:-1] + f"; {failed} failed)" if failed else line
    counted = _same_slice(stats, stat, stat.name.name + ALL_SUFFIX)
    if failed and counted is not None and counted.count:
        line += f"\n  {counted.name.name}={counted.uncertainty_str()[:-1]}, failed as 0)"
    return line


def _failed(stat: Stat, stats: Sequence[Stat]) -> int:
    """How many instances of `stat`'s slice failed (and are left out of an accuracy figure)."""
    failed_stat = _same_slice(stats, stat, FAILED_STAT)
    return round(failed_stat.sum) if failed_stat is not None else 0


def _same_slice(stats: Sequence[Stat], like: Stat, name: str) -> Stat | None:
    """The Stat called `name` on the same split, sub-split and perturbation as `like`."""
    wanted = like.name.model_copy(update={"name": name})
    return next((s for s in stats if s.name == wanted), None)


def perturbation_lines(stats: Sequence[Stat], metric: str) -> list[str]:
    """`metric` on each perturbation's copies (evaluation split), worst first, with the instances each figure
    covers out of the unperturbed figure's: `  typos: 0.412 ±0.080 [0.255, 0.569] (8 of 10 instances)`. A
    perturbation only keeps the copies whose input it changed, so its figure may cover fewer instances than the
    unperturbed one, and the two compare only with that count in view."""
    original = _headline_by_name(stats).get(metric)
    if original is None:
        return []
    perturbed = [
        s
        for s in stats
        if s.name.name == metric
        and s.name.perturbation is not None
        and s.name.split == original.name.split
        and not s.name.sub_split
        and s.count
    ]
    perturbed.sort(key=lambda s: s.mean if s.mean is not None else 0.0)
    lines = []
    for stat in perturbed:
        assert stat.name.perturbation is not None  # kept above; narrows the type
        failed = _failed(stat, stats)
        counts = f"{stat.count} of {original.count} instances" + (f"; {failed} failed" if failed else "")
        figure = stat.uncertainty_str().rsplit(" (", 1)[0]
        lines.append(f"  {stat.name.perturbation.name}: {figure} ({counts})")
    return [f"{metric} when perturbed:", *lines] if lines else []


def _metric_lines(result: RunResult, metrics: Sequence[str]) -> list[str]:
    """The summary's lines for one finished run: each of `metrics` (or `name=-` when the run has none), then the
    first of them on each perturbation."""
    by_name = _headline_by_name(result.stats)
    lines = [
        figure_line(by_name[name], result.stats) if name in by_name else f"{name}=- (not measured)" for name in metrics
    ]
    perturbed_metric = next((name for name in metrics if name in by_name), None)
    if perturbed_metric is not None:
        lines += perturbation_lines(result.stats, perturbed_metric)
    return lines


def print_run_summary(results: Sequence[RunResult], console: Console) -> None:
    """A table: one row per run, with the same headline metrics for every run, failures, time and folder."""
    table = Table(title="Mercury run summary", show_lines=False)
    table.add_column("run", overflow="fold", ratio=2)
    for column in ("instances", "requests", "failed"):
        table.add_column(column, justify="right")
    table.add_column("metrics (test split, else valid): mean ±stderr [95% CI] (instances)", ratio=3)
    table.add_column("seconds", justify="right")
    metrics = summary_metrics(results)
    for result in results:
        if result.error is not None:
            table.add_row(result.run_spec.name, "-", "-", "-", f"[red]failed:[/red] {escape(result.error)}", "-")
            continue
        lines = [escape(line) for line in _metric_lines(result, metrics)]
        if result.incomplete is not None:
            lines.append("[red]incomplete: too many failed requests, no stats.json (see below)[/red]")
        seconds = "cached" if result.skipped else f"{result.timings.total:.1f}"
        failed = f"[red]{result.num_failed_requests}[/red]" if result.num_failed_requests else "0"
        table.add_row(
            result.run_spec.name, str(result.num_instances), str(result.num_requests), failed, "\n".join(lines), seconds
        )
    console.print(table)
    folders = {str(r.output_dir.parent) for r in results if r.output_dir is not None}
    for folder in sorted(folders):
        console.print(f"Results are in [bold]{folder}/[/bold]")


TIMING_LABELS = {
    "startup": "start-up",
    "instances": "loading",
    "adaptation": "adaptation",
    "execution": "execution",
    "metrics": "metrics",
    "writing": "writing",
}
"""How each step of RunTimings is named on screen, in RunTimings.STEPS' order."""


def timing_line(timings: RunTimings, total: float | None = None) -> str:
    """`start-up 3.1s · loading 0.4s · ... · total 6.4s`; with the command's wall clock `total`, what no step
    covers (checks, reading stored results, printing) shows as `other`."""
    parts = [f"{TIMING_LABELS[step]} {getattr(timings, step):.2f}s" for step in RunTimings.STEPS]
    if total is None:
        total = timings.total
    else:
        parts.append(f"other {max(0.0, total - timings.total):.2f}s")
    return " · ".join([*parts, f"total {total:.2f}s"])


def print_timings(results: Sequence[RunResult], startup: float, total: float, console: Console) -> None:
    """Where the command's time went, after its summary: one line for the command (start-up, then each step
    summed over the runs done now, then the rest, and the wall clock since the process started), and one line
    per run when several ran (runs read back from storage took no time)."""
    ran = [r for r in results if not r.skipped and r.error is None]
    command = RunTimings.sum((r.timings for r in ran), startup=startup)
    console.print(f"Time: {timing_line(command, total)}", highlight=False, markup=False, soft_wrap=True)
    if len(ran) > 1:
        for result in ran:
            console.print(f"  {result.run_spec.name}: {timing_line(result.timings)}", highlight=False, markup=False,
                          soft_wrap=True)  # fmt: skip


def print_dry_run(results: Sequence[RunResult], console: Console) -> None:
    """Per run and per model: estimated tokens as Stats in HELM's printed form, and the estimated cost."""
    totals: dict[str, dict[str, Stat]] = {}
    for result in results:
        model = result.run_spec.adapter_spec.model
        console.print(f"[bold]{result.run_spec.name}[/bold]")
        for stat in result.stats:
            if stat.name.perturbation is None and stat.name.sub_split is None:
                merged = totals.setdefault(model, {})
                key = stat.name.name
                if key in merged:
                    merged[key].merge(stat)
                else:
                    merged[key] = stat.copy_with(MetricName(name=key)).model_copy(deep=True)
        tokens = _find(result.stats, "estimated_number_of_tokens")
        if tokens is not None:
            console.print(f"  {model}_{tokens}", highlight=False, markup=False)
    console.print()
    console.print("[bold]Estimate per model (all runs)[/bold]")
    for model, stats in totals.items():
        deployment = get_deployment(model)
        tokens = stats.get("estimated_number_of_tokens")
        prompt = stats.get("num_prompt_tokens")
        out = stats.get("max_num_output_tokens")
        if tokens is not None:
            console.print(f"{model}_{tokens}", highlight=False, markup=False)
        if prompt is not None and out is not None:
            if deployment.has_prices:
                cost = deployment.estimate_cost(prompt.sum, out.sum)
                price = (
                    f"estimated cost ${cost:,.4f} (at ${deployment.price_per_1m_input_tokens}/"
                    f"${deployment.price_per_1m_output_tokens} per 1M tokens)"
                )
            else:
                price = "estimated cost - (no prices listed for this model in model_deployments.yaml)"
            console.print(
                f"{model}: {int(prompt.sum)} prompt tokens + at most {int(out.sum)} output tokens = {price}",
                highlight=False,
                markup=False,
            )


def _find(stats: Sequence[Stat], name: str) -> Stat | None:
    """The unperturbed whole-split Stat called `name`, merged over splits."""
    found: Stat | None = None
    for stat in stats:
        if stat.name.name == name and stat.name.perturbation is None and stat.name.sub_split is None:
            found = stat.model_copy(deep=True) if found is None else found.merge(stat)
    if found is not None:
        found = found.copy_with(MetricName(name=name))
    return found


def make_console() -> Console:
    """A console for summaries: the terminal's width, or 140 columns when output goes to a file or a job log."""
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)
    return console
