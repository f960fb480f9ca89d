"""Per-instance samples: values a figure needs instance by instance, kept until the run's Stats are final.

Most figures are functions of sums, so Stats merged from any number of shards give them exactly. A few are
not: HELM's equal-mass ECE places its bin edges by sorting the instances' confidences. For those a metric
reports each instance's values as sample Stats named `_sample:<kind>:<field>`, one value each
(`sample_stats`). They travel like every per-instance Stat (per_instance_stats.json and .parquet, in memory
or read back by the sharded executor), merge like any Stat into the slice's Stats, and the run's
`StatsAccumulator` also keeps each instance's values of a kind together as one sample, per slice. Samples
from pieces of a run combine by concatenation; `sorted_samples` puts them in one canonical order before a
metric's `derive_samples` sees them, so a figure is the same to the last bit however the run was sharded
and in whatever order its pieces were folded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from bench._stat import MetricName, Stat

SAMPLE_PREFIX = "_sample:"
"""Names of sample Stats start with this (the leading "_" hides them like other internal Stats)."""

Sample = Mapping[str, float]
"""One instance's values of one kind of sample, by field name."""

Samples = Mapping[str, list[Sample]]
"""A slice's samples by kind, as `Metric.derive_samples` receives them (each list in `sorted_samples` order)."""


def sample_stats(kind: str, values: Mapping[str, float]) -> list[Stat]:
    """One instance's sample of `kind`: a Stat `_sample:<kind>:<field>` holding each value.

    Raises:
        ValueError: if `kind` or a field name is empty or holds ":" (the separator of the name).
    """
    for part in (kind, *values):
        if not part or ":" in part:
            raise ValueError(f"sample kind and field names must be non-empty without ':'; got {part!r} in {kind!r}")
    return [Stat.of(MetricName(name=f"{SAMPLE_PREFIX}{kind}:{field}"), value) for field, value in values.items()]


def parse_sample_name(name: str) -> tuple[str, str] | None:
    """(kind, field) of a sample Stat's name, or None for any other name."""
    if not name.startswith(SAMPLE_PREFIX):
        return None
    kind, _, field = name[len(SAMPLE_PREFIX) :].partition(":")
    return (kind, field) if kind and field else None


def sorted_samples(samples: Iterable[Sample]) -> list[Sample]:
    """`samples` in a canonical order: by their values, field by field in the order of the field names."""
    return sorted(samples, key=lambda sample: tuple(sample[field] for field in sorted(sample)))
