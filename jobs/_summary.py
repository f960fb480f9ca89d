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
    candidates = [s for s in stats if s.name.perturbation is None and s.name.sub_split is None and s.count]
    splits = {s.name.split for s in candidates}
    split = "test" if "test" in splits else "valid"
    by_name = {s.name.name: s for s in candidates if s.name.split == split}
    return [by_name[name] for name in HEADLINE_METRICS if name in by_name][:limit]


def figure_line(stat: Stat, stats: Sequence[Stat]) -> str:
    """`name=mean ±stderr [95% interval] (count; N failed)`, and beside an accuracy figure whose slice has failed
    instances, the same figure with them counted as wrong (`name_all`)."""
    failed_stat = _same_slice(stats, stat, FAILED_STAT)
    failed = round(failed_stat.sum) if failed_stat is not None else 0
    line = f"{stat.name.name}={stat.uncertainty_str()}"
    line = line[:-1] + f"; {failed} failed)" if failed else line
    counted = _same_slice(stats, stat, stat.name.name + ALL_SUFFIX)
    if failed and counted is not None and counted.count:
        line += f"\n  {counted.name.name}={counted.uncertainty_str()[:-1]}, failed as 0)"
    return line


def _same_slice(stats: Sequence[Stat], like: Stat, name: str) -> Stat | None:
    """The Stat called `name` on the same split, sub-split and perturbation as `like`."""
    wanted = like.name.model_copy(update={"name": name})
    return next((s for s in stats if s.name == wanted), None)


def perturbation_lines(stats: Sequence[Stat], metric: str) -> list[str]:
    """`metric` on each perturbation's copies (evaluation split), e.g. `  typos: 0.412`, worst first."""
    headline = headline_stats(stats, limit=1)
    split = headline[0].name.split if headline else "test"
    perturbed = [
        s
        for s in stats
        if s.name.name == metric and s.name.perturbation is not None and s.name.split == split and not s.name.sub_split
    ]
    perturbed.sort(key=lambda s: s.mean if s.mean is not None else 0.0)
    lines = [f"  {s.name.perturbation.name}: {s.mean:.3f}" for s in perturbed if s.name.perturbation and s.count]
    return [f"{metric} when perturbed:", *lines] if lines else []


def print_run_summary(results: Sequence[RunResult], console: Console) -> None:
    """A table: one row per run, with its headline metrics, failures, time and folder."""
    table = Table(title="Mercury run summary", show_lines=False)
    table.add_column("run", overflow="fold", ratio=3)
    for column in ("instances", "requests", "failed"):
        table.add_column(column, justify="right")
    table.add_column("metrics (test split): mean ±stderr [95% CI] (instances)", ratio=3)
    table.add_column("seconds", justify="right")
    for result in results:
        if result.error is not None:
            table.add_row(result.run_spec.name, "-", "-", "-", f"[red]failed:[/red] {result.error}", "-")
            continue
        headline = headline_stats(result.stats)
        lines = [escape(figure_line(s, result.stats)) for s in headline]
        if headline:
            lines += [escape(line) for line in perturbation_lines(result.stats, headline[0].name.name)]
        if result.incomplete is not None:
            lines.append("[red]incomplete: too many failed requests, no stats.json (see below)[/red]")
        metrics = "\n".join(lines)
        seconds = "cached" if result.skipped else f"{result.timings.total:.1f}"
        failed = f"[red]{result.num_failed_requests}[/red]" if result.num_failed_requests else "0"
        table.add_row(
            result.run_spec.name, str(result.num_instances), str(result.num_requests), failed, metrics, seconds
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
            cost = deployment.estimate_cost(prompt.sum, out.sum)
            console.print(
                f"{model}: {int(prompt.sum)} prompt tokens + at most {int(out.sum)} output tokens "
                f"= estimated cost ${cost:,.4f} (at ${deployment.price_per_1m_input_tokens}/"
                f"${deployment.price_per_1m_output_tokens} per 1M tokens)",
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
