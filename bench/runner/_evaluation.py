"""Scoring a run: per-instance Stats from the metrics, merged per slice, then derived figures.

A slice is (split, sub_split, perturbation). `StatsAccumulator` holds merged Stats, plus the per-instance
samples the few figures that are not functions of sums need (see bench.metrics' `_samples`), so results
scored in pieces (shards on other machines) combine exactly with `merge`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import BaseModel, ConfigDict

from bench._instance import PerturbationDescription
from bench._stat import MetricName, Stat
from bench.adaptation import RequestState
from bench.metrics import SAMPLE_PREFIX, Metric, MetricContext, parse_sample_name, sorted_samples
from bench.runner._failures import is_accuracy_metric, with_failures_as_zero

SliceKey = tuple[str, str | None, PerturbationDescription | None]
Figures = tuple[int, float, float, float | None, float | None]
"""A Stat's count, sum, sum of squares, min and max."""


class PerInstanceStats(BaseModel):
    """The Stats of one instance (and train trial), as written to per_instance_stats.json."""

    model_config = ConfigDict(extra="forbid")

    instance_id: str
    train_trial_index: int
    split: str
    sub_split: str | None = None
    perturbation: PerturbationDescription | None = None
    stats: list[Stat]


def group_request_states(request_states: Sequence[RequestState]) -> list[list[RequestState]]:
    """Request states grouped by (instance id, perturbation, train trial), in first-seen order."""
    groups: dict[tuple[str | None, PerturbationDescription | None, int], list[RequestState]] = {}
    for state in request_states:
        key = (state.instance.id, state.instance.perturbation, state.train_trial_index)
        groups.setdefault(key, []).append(state)
    return list(groups.values())


def score_instances(
    metrics: Sequence[Metric], request_states: Sequence[RequestState], context: MetricContext
) -> list[PerInstanceStats]:
    """Per-instance Stats of every metric, one entry per (instance, perturbation, train trial)."""
    scored = []
    for group in group_request_states(request_states):
        instance = group[0].instance
        stats = [stat for metric in metrics for stat in metric.evaluate_instance(group, context)]
        scored.append(
            PerInstanceStats(
                instance_id=instance.id or "",
                train_trial_index=group[0].train_trial_index,
                split=instance.split,
                sub_split=instance.sub_split,
                perturbation=instance.perturbation,
                stats=stats,
            )
        )
    return scored


class StatsAccumulator:
    """Merged Stats per slice, and per slice the instances' samples (only what metrics report as samples)."""

    def __init__(self) -> None:
        self.slices: dict[SliceKey, dict[str, Stat]] = {}
        self.samples: dict[SliceKey, dict[str, list[dict[str, float]]]] = {}
        """Per slice, per kind of sample, one field -> value mapping per instance, in the order added."""

    def add(self, per_instance: Iterable[PerInstanceStats]) -> StatsAccumulator:
        """Merge instances' Stats into their slices (and into the sub-split's slice when there is one)."""
        for item in per_instance:
            figures = ((s.name.name, (s.count, s.sum, s.sum_squared, s.min, s.max)) for s in item.stats)
            self.add_row(item.split, item.sub_split, item.perturbation, figures)
        return self

    def add_row(
        self,
        split: str,
        sub_split: str | None,
        perturbation: PerturbationDescription | None,
        stats: Iterable[tuple[str, Figures]],
    ) -> None:
        """Merge one instance's Stats, given by name and figures (count, sum, sum of squares, min, max), into
        its slices: what `add` does per instance, and what a reader of stored per-instance tables calls
        without making a Stat per row."""
        keys = _slice_keys(split, sub_split, perturbation)
        slices = [self.slices.setdefault(key, {}) for key in keys]
        row_samples: dict[str, dict[str, float]] = {}
        for name, (count, total, total_squared, low, high) in stats:
            # the prefix test first: this runs for every Stat of every instance, samples are rare
            if count == 1 and name.startswith(SAMPLE_PREFIX) and (parsed := parse_sample_name(name)):
                row_samples.setdefault(parsed[0], {})[parsed[1]] = total
            for merged in slices:
                stat = merged.get(name)
                if stat is None:
                    merged[name] = Stat(
                        name=MetricName(name=name), count=count, sum=total, sum_squared=total_squared, min=low, max=high
                    )
                elif count:
                    assert low is not None and high is not None
                    stat.merge_figures(count, total, total_squared, low, high)
        if row_samples:
            for key in keys:
                kinds = self.samples.setdefault(key, {})
                for kind, sample in row_samples.items():
                    kinds.setdefault(kind, []).append(sample)

    def merge(self, other: StatsAccumulator) -> StatsAccumulator:
        """Fold another accumulator (e.g. a shard's) into this one."""
        for key, stats in other.slices.items():
            merged = self.slices.setdefault(key, {})
            for name, stat in stats.items():
                if name in merged:
                    merged[name].merge(stat)
                else:
                    merged[name] = stat.model_copy(deep=True)
        for key, kinds in other.samples.items():
            mine = self.samples.setdefault(key, {})
            for kind, samples in kinds.items():
                mine.setdefault(kind, []).extend(samples)
        return self

    def finalize(self, metrics: Sequence[Metric], context: MetricContext) -> list[Stat]:
        """Every slice's Stats plus the metrics' derived Stats and accuracy with failures counted as wrong
        (`<name>_all`, see bench.runner._failures), named with their slice.

        Samples reach `derive_samples` sorted (`sorted_samples`): the same figures whatever the order of adds
        and merges.
        """
        out: list[Stat] = []
        accuracy = {name for stats in self.slices.values() for name in stats if is_accuracy_metric(name)}
        for (split, sub_split, perturbation), stats in sorted(self.slices.items(), key=_slice_order):
            key = (split, sub_split, perturbation)
            samples = {kind: sorted_samples(values) for kind, values in self.samples.get(key, {}).items()}
            derived = [stat for metric in metrics for stat in metric.derive(stats, context)]
            derived += [stat for metric in metrics for stat in metric.derive_samples(samples, context)]
            derived += with_failures_as_zero(stats, accuracy)
            for stat in [*stats.values(), *derived]:
                name = MetricName(name=stat.name.name, split=split, sub_split=sub_split, perturbation=perturbation)
                out.append(stat.copy_with(name))
        return out


def _slice_keys(split: str, sub_split: str | None, perturbation: PerturbationDescription | None) -> list[SliceKey]:
    """The slices an instance's Stats go to: its split, and its sub-split when it has one."""
    keys: list[SliceKey] = [(split, None, perturbation)]
    if sub_split is not None:
        keys.append((split, sub_split, perturbation))
    return keys


def _slice_order(item: tuple[SliceKey, dict[str, Stat]]) -> tuple[str, str, str]:
    split, sub_split, perturbation = item[0]
    return (split, sub_split or "", perturbation.name if perturbation else "")
