"""Reading one complete run into a `RunSummary` plus the instance rows of its page.

A run is read from its JSON files (run_spec, scenario, run_info, stats, per_instance_stats, scenario_state).
The main metric of a run is the first of `MAIN_METRICS` it reports on its evaluation split; the robustness and
fairness view pairs each perturbed instance with the same instance unperturbed, so a drop is never an artefact
of comparing different instances.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from bench._errors import MercuryError, MissingFileError
from bench.presentation._model import CalibrationBin, PerturbationRow, RunSummary, StatRow
from bench.runner import (
    PER_INSTANCE_STATS_FILE,
    PER_INSTANCE_STATS_PARQUET,
    REQUEST_STATES_PARQUET,
    SCENARIO_STATE_FILE,
    Storage,
    read_per_instance,
    read_request_states,
    storage_path,
)

logger = logging.getLogger(__name__)

MAIN_METRICS = (
    "exact_match",
    "quasi_exact_match",
    "pass@1",
    "f1_score",
    "rouge_l",
    "bleu_4",
    "bits_per_byte",
    "perplexity",
)
"""A run's main metric is the first of these it reports (HELM's schema names one per group; runs here do not)."""

LOWER_IS_BETTER = frozenset(
    {"bits_per_byte", "perplexity", "ece_10_bin", "inference_runtime", "request_failed", "prompt_truncated"}
)
"""Metrics where a smaller value is the better one."""

SPLIT_PREFERENCE = ("test", "valid")
NUM_ECE_BINS = 10
_SLUG_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class RunReadError(MercuryError):
    """A run folder whose files cannot be read as a run."""

    def __init__(self, run: str, problem: str) -> None:
        self.run = run
        self.problem = problem
        super().__init__(f"run {run!r}: {problem}")


@dataclass
class RunData:
    """A run as read: its summary and the rows its page lists (one per instance, perturbation and trial)."""

    summary: RunSummary
    rows: list[dict[str, Any]]
    run_spec: dict[str, Any]


def run_slug(run_dir: str) -> str:
    """A folder name for the run's pages that is safe in a URL (run names hold ':' and ',')."""
    readable = _SLUG_UNSAFE.sub("_", run_dir).strip("_")[:80]
    return f"{readable}-{hashlib.sha1(run_dir.encode()).hexdigest()[:8]}"


def run_column(run_name: str) -> str:
    """The run name without its model: the scenario variant, shared by every model's run of it."""
    name, _, rest = run_name.partition(":")
    pairs = [p for p in rest.split(",") if p and not p.startswith("model=")]
    return f"{name}:{','.join(pairs)}" if pairs else name


def read_run(storage: Storage, suite: str, run_dir: str) -> RunData:
    """Read the complete run `run_dir` of `suite`.

    Raises:
        RunReadError: if a file is missing or is not the JSON a run writes.
    """
    base = storage_path("runs", suite, run_dir)
    run_spec = _read_json(storage, base, "run_spec.json", run_dir)
    stats = [_stat_row(s) for s in _read_json(storage, base, "stats.json", run_dir)]
    scenario = _read_json(storage, base, "scenario.json", run_dir, default={})
    info = _read_json(storage, base, "run_info.json", run_dir, default={})
    per_instance, request_states = _read_instances(storage, base, run_dir)
    try:
        return _build(run_dir, run_spec, stats, scenario, info, per_instance, request_states)
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise RunReadError(run_dir, f"unexpected content ({type(e).__name__}: {e})") from e


def _read_instances(storage: Storage, base: str, run: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per-instance stats and request states as JSON data: from the parquet tables a sharded (Ray) run writes,
    else from the JSON files of an in-process run."""
    if storage.info(storage_path(base, PER_INSTANCE_STATS_PARQUET)) is not None:
        per_instance = read_per_instance(_read_table(storage, base, PER_INSTANCE_STATS_PARQUET, run))
        states = read_request_states(_read_table(storage, base, REQUEST_STATES_PARQUET, run))
        return [p.model_dump(mode="json") for p in per_instance], [s.model_dump(mode="json") for s in states]
    per_instance_json = _read_json(storage, base, PER_INSTANCE_STATS_FILE, run, default=[])
    state = _read_json(storage, base, SCENARIO_STATE_FILE, run, default={})
    return per_instance_json, state.get("request_states", [])


def _read_table(storage: Storage, base: str, name: str, run: str) -> pa.Table:
    try:
        return storage.read_table(storage_path(base, name))
    except MissingFileError:
        raise RunReadError(run, f"{name} is missing") from None
    except (pa.ArrowException, OSError) as e:
        raise RunReadError(run, f"{name} is not a readable parquet table ({e})") from None


def _read_json(storage: Storage, base: str, name: str, run: str, default: Any = None) -> Any:
    path = storage_path(base, name)
    if default is not None and storage.info(path) is None:
        return default
    try:
        return json.loads(storage.read_text(path))
    except MissingFileError:
        raise RunReadError(run, f"{name} is missing") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise RunReadError(run, f"{name} is not valid JSON ({e})") from None


def _stat_row(data: dict[str, Any]) -> StatRow:
    name = data["name"]
    perturbation = name.get("perturbation") or {}
    return StatRow(
        metric=name["name"],
        split=name.get("split"),
        sub_split=name.get("sub_split"),
        perturbation=perturbation.get("name"),
        robustness=bool(perturbation.get("robustness")),
        fairness=bool(perturbation.get("fairness")),
        count=int(data.get("count", 0)),
        mean=data.get("mean"),
        stddev=data.get("stddev"),
        min=data.get("min"),
        max=data.get("max"),
        stderr=data.get("stderr"),
        ci_low=data.get("ci95_low"),
        ci_high=data.get("ci95_high"),
    )


def _build(
    run_dir: str,
    run_spec: dict[str, Any],
    stats: list[StatRow],
    scenario: dict[str, Any],
    info: dict[str, Any],
    per_instance: list[dict[str, Any]],
    request_states: list[dict[str, Any]],
) -> RunData:
    adapter = run_spec.get("adapter_spec", {})
    name = run_spec["name"]
    split = _eval_split(stats)
    main = next((m for m in MAIN_METRICS if _find(stats, m, split) is not None), None)
    main_stat = _find(stats, main, split) if main else None
    ece_stat = _find(stats, "ece_10_bin", split)
    failed_stat = _find(stats, "request_failed", split)
    rows = _rows(per_instance, request_states)
    summary = RunSummary(
        dir=run_dir,
        slug=run_slug(run_dir),
        name=name,
        model=adapter.get("model", "?"),
        scenario=run_spec.get("scenario_spec", {}).get("name", name.split(":")[0]),
        column=run_column(name),
        group=run_group(run_spec),
        description=scenario.get("description", ""),
        method=adapter.get("method", ""),
        augmentation=_augmentation(name),
        num_instances=int(info.get("num_instances", 0)),
        num_requests=int(info.get("num_requests", len(request_states))),
        num_failed_requests=int(info.get("num_failed_requests", 0)),
        seconds=float(sum((info.get("timings_seconds") or {}).values())),
        stats=stats,
        main_metric=main,
        main_value=main_stat.mean if main_stat else None,
        main_stderr=main_stat.stderr if main_stat else None,
        main_ci_low=main_stat.ci_low if main_stat else None,
        main_ci_high=main_stat.ci_high if main_stat else None,
        main_failed=round((failed_stat.mean or 0.0) * failed_stat.count) if failed_stat else 0,
        main_values=_main_values(rows, main, split) if main else {},
        lower_is_better=main in LOWER_IS_BETTER,
        prompt_tokens=_total(stats, "num_prompt_tokens"),
        completion_tokens=_total(stats, "num_completion_tokens"),
        inference_runtime=_total(stats, "inference_runtime"),
        calibration=_calibration(stats, split),
        ece=ece_stat.mean if ece_stat else None,
        num_rows=len(rows),
    )
    summary.cost = _cost(summary.model, summary.prompt_tokens, summary.completion_tokens)
    if main:
        _perturbation_views(summary, rows, main)
    return RunData(summary=summary, rows=rows, run_spec=run_spec)


def run_group(run_spec: dict[str, Any]) -> str:
    """The scenario group a run is shown in: the first of its RunSpec's groups that is not another scenario's.

    A RunSpec lists every group it belongs to, broadest first (lpm: synthetic_reasoning, lpm). HELM's schema then
    decides which groups get a table; here a run gets one group, and it is never that of another scenario, whose
    runs have other instances and another main metric: averaging them into one figure would mix two tasks (HELM
    likewise shows synthetic_reasoning_natural as a group of its own beside synthetic_reasoning). Runs recorded
    before a scenario had a group of its own are placed the same way, from their run_spec.json.
    """
    from bench import load_builtins
    from bench.scenarios import SCENARIOS

    load_builtins()  # the scenario registry (idempotent): a presentation may run before anything loaded it
    scenario = run_spec.get("scenario_spec", {}).get("name") or run_spec["name"].split(":")[0]
    groups = [g for g in run_spec.get("groups") or () if g == scenario or g not in SCENARIOS]
    return groups[0] if groups else scenario


def _main_values(rows: list[dict[str, Any]], main: str, split: str | None) -> dict[str, float]:
    """The main metric of each original instance of the evaluation split, by '<id>|<train trial>'."""
    return {
        f"{row['id']}|{row['trial']}": row["metrics"][main]
        for row in rows
        if row["perturbation"] is None and row["split"] == split and main in row["metrics"]
    }


def _augmentation(name: str) -> str | None:
    for pair in name.partition(":")[2].split(","):
        if pair.startswith("data_augmentation="):
            return pair.split("=", 1)[1]
    return None


def _eval_split(stats: list[StatRow]) -> str | None:
    splits = {s.split for s in stats if s.count}
    return next((s for s in SPLIT_PREFERENCE if s in splits), next(iter(sorted(x or "" for x in splits)), None))


def _find(stats: Iterable[StatRow], metric: str, split: str | None) -> StatRow | None:
    """The Stat of `metric` on the whole split, original instances only."""
    for s in stats:
        if s.metric == metric and s.split == split and s.sub_split is None and s.perturbation is None and s.count:
            return s
    return None


def _total(stats: list[StatRow], metric: str) -> float:
    """Sum of `metric` over every request of the run: each evaluation slice (original or perturbed) once."""
    return sum(
        (s.mean or 0.0) * s.count
        for s in stats
        if s.metric == metric and s.sub_split is None and s.split in SPLIT_PREFERENCE
    )


def _cost(model: str, prompt_tokens: float, completion_tokens: float) -> float | None:
    """Estimated dollars at the deployment's prices; None for a model the deployments do not list or list
    without prices (both prices 0, the default: a local or test model), which the site shows as '-', not $0."""
    from bench.models import get_deployment

    try:
        deployment = get_deployment(model)
    except MercuryError:
        return None
    if not deployment.has_prices:
        return None
    return deployment.estimate_cost(prompt_tokens, completion_tokens)


def _calibration(stats: list[StatRow], split: str | None) -> list[CalibrationBin]:
    """Reliability bins from the hidden per-bin Stats of the calibration metric (empty when it did not run)."""
    bins = []
    for b in range(NUM_ECE_BINS):
        confidence = _find(stats, f"_ece_bin{b}_confidence", split)
        correct = _find(stats, f"_ece_bin{b}_correct", split)
        if confidence is None or correct is None or confidence.mean is None or correct.mean is None:
            continue
        bins.append(
            CalibrationBin(
                lower=b / NUM_ECE_BINS,
                upper=(b + 1) / NUM_ECE_BINS,
                count=confidence.count,
                confidence=confidence.mean,
                accuracy=correct.mean,
            )
        )
    return bins


def _rows(per_instance: list[dict[str, Any]], request_states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (instance, perturbation, train trial): input, references, prompts, completions, metrics."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for state in request_states:
        instance = state["instance"]
        perturbation = (instance.get("perturbation") or {}).get("name")
        key = (instance.get("id"), perturbation, state.get("train_trial_index", 0))
        row = rows.get(key)
        if row is None:
            row = rows[key] = {
                "id": instance.get("id"),
                "split": instance.get("split"),
                "perturbation": perturbation,
                "kind": _kind(instance.get("perturbation")),
                "trial": state.get("train_trial_index", 0),
                "input": instance.get("input", ""),
                "references": [[r.get("output", ""), "correct" in r.get("tags", [])] for r in instance["references"]],
                "requests": [],
                "metrics": {},
            }
        result = state.get("result") or {}
        row["requests"].append(
            {
                "prompt": state.get("request", {}).get("prompt") or _messages(state.get("request", {})),
                "completions": [c.get("text", "") for c in result.get("completions", [])],
                "error": None if result.get("success", True) else result.get("error") or "request failed",
            }
        )
    for item in per_instance:
        perturbation = (item.get("perturbation") or {}).get("name")
        key = (item.get("instance_id"), perturbation, item.get("train_trial_index", 0))
        if key in rows:
            rows[key]["metrics"].update(
                {
                    s["name"]["name"]: s["sum"] / s["count"]
                    for s in item.get("stats", [])
                    if s.get("count") and not s["name"]["name"].startswith("_")
                }
            )
    return list(rows.values())


def _messages(request: dict[str, Any]) -> str:
    """A chat request's messages as text, for requests that have no plain prompt."""
    return "\n".join(f"{m.get('role', '?')}: {m.get('content', '')}" for m in request.get("messages") or [])


def _kind(perturbation: dict[str, Any] | None) -> str | None:
    if not perturbation:
        return None
    return "robustness" if perturbation.get("robustness") else "fairness" if perturbation.get("fairness") else "other"


def _perturbation_views(summary: RunSummary, rows: list[dict[str, Any]], main: str) -> None:
    """Per perturbation: perturbed against the same instances unperturbed; and HELM's worst case per view."""
    original: dict[tuple[Any, Any], float] = {}
    perturbed: dict[str, list[tuple[tuple[Any, Any], float]]] = {}
    kinds: dict[str, str] = {}
    for row in rows:
        value = row["metrics"].get(main)
        if value is None or row["split"] not in SPLIT_PREFERENCE:
            continue
        key = (row["id"], row["trial"])
        if row["perturbation"] is None:
            original[key] = value
        else:
            perturbed.setdefault(row["perturbation"], []).append((key, value))
            kinds[row["perturbation"]] = row["kind"]
    worse = max if summary.lower_is_better else min
    worst: dict[str, dict[tuple[Any, Any], float]] = {"robustness": dict(original), "fairness": dict(original)}
    for name in sorted(perturbed):
        pairs = [(value, original[key]) for key, value in perturbed[name] if key in original]
        summary.perturbations.append(
            PerturbationRow(
                perturbation=name,
                kind=kinds[name],
                count=len(perturbed[name]),
                perturbed=_mean(v for v, _ in pairs),
                original=_mean(o for _, o in pairs),
            )
        )
        if kinds[name] in worst:
            view = worst[kinds[name]]
            for key, value in perturbed[name]:
                if key in view:
                    view[key] = worse(view[key], value)
    if any(p.kind == "robustness" for p in summary.perturbations):
        summary.robustness_worst = _mean(worst["robustness"].values())
    if any(p.kind == "fairness" for p in summary.perturbations):
        summary.fairness_worst = _mean(worst["fairness"].values())


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None
