"""`Stat`: a mergeable summary of one metric (count, sum, sum of squares, min, max), and its uncertainty.

Partial results from different shards combine exactly with `merge`, so a driver never needs every value.
The uncertainty of a mean over instances comes from the same figures, so it merges exactly too: the sample
standard deviation (dividing by count - 1), the standard error of the mean (that over the square root of the
count) and a 95% confidence interval, mean +- 1.96 standard errors: the normal (large-sample) interval, not
Student's t. With few instances the normal interval is a little too narrow (at 10 instances t would widen it
by 15%); it needs no table and is what most leaderboards report. HELM's own `stddev` and `variance` (which
divide by the count) are kept unchanged beside them.
"""

from __future__ import annotations

import math
from statistics import NormalDist

from pydantic import BaseModel, ConfigDict

from bench._instance import PerturbationDescription


class MetricName(BaseModel):
    """A metric's name plus the slice of the data it was computed on."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    split: str | None = None
    sub_split: str | None = None
    perturbation: PerturbationDescription | None = None

    def __str__(self) -> str:
        parts = [self.name]
        if self.split:
            parts.append(f"split={self.split}")
        if self.sub_split:
            parts.append(f"sub_split={self.sub_split}")
        if self.perturbation:
            parts.append(f"perturbation={self.perturbation.name}")
        return parts[0] if len(parts) == 1 else f"{parts[0]}({', '.join(parts[1:])})"


_FIGURES = frozenset({"count", "sum", "sum_squared", "min", "max"})

CONFIDENCE = 0.95
"""Level of the confidence intervals."""

Z_95 = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)
"""The normal quantile of a two-sided 95% interval: 1.959963984540054."""


def _figures_of(value: float | bool) -> tuple[float, float, float, float]:
    """One value's sum, sum of squares, min and max."""
    value = float(value)
    return value, value * value, value, value


class Stat(BaseModel):
    """Running summary of the values observed for one MetricName."""

    model_config = ConfigDict(extra="forbid")

    name: MetricName
    count: int = 0
    sum: float = 0.0
    sum_squared: float = 0.0
    min: float | None = None
    max: float | None = None

    @classmethod
    def of(cls, name: str | MetricName, *values: float) -> Stat:
        """A Stat named `name` holding `values` (a metric makes one per instance: built in one step)."""
        stat = cls(name=name if isinstance(name, MetricName) else MetricName(name=name))
        if len(values) == 1:  # the usual case: the figures of one value, folded as `add` folds them
            return stat.merge_figures(1, *_figures_of(values[0]))
        for value in values:
            stat.add(value)
        return stat

    def add(self, value: float | bool) -> Stat:
        """Observe one value; returns self so calls chain."""
        return self.merge_figures(1, *_figures_of(value))

    def merge(self, other: Stat) -> Stat:
        """Fold another Stat of the same quantity into this one; returns self."""
        if other.count == 0:
            return self
        assert other.min is not None and other.max is not None
        return self.merge_figures(other.count, other.sum, other.sum_squared, other.min, other.max)

    def merge_figures(self, count: int, total: float, total_squared: float, low: float, high: float) -> Stat:
        """Fold the figures of a Stat with `count` > 0 (read from a table, say) without making one; returns self.

        The fields' storage is written directly instead of through five pydantic assignments: a run folds one
        Stat per metric per instance, and pydantic's __setattr__ was most of that time. Every field stays "set".
        """
        fields = self.__dict__
        fields["count"] += count
        fields["sum"] += total
        fields["sum_squared"] += total_squared
        smallest, largest = fields["min"], fields["max"]
        fields["min"] = low if smallest is None or low < smallest else smallest
        fields["max"] = high if largest is None or high > largest else largest
        self.__pydantic_fields_set__.update(_FIGURES)
        return self

    def copy_with(self, name: MetricName) -> Stat:
        """The same figures under another name."""
        return self.model_copy(update={"name": name})

    @property
    def mean(self) -> float | None:
        return self.sum / self.count if self.count else None

    @property
    def variance(self) -> float | None:
        """Population variance (divides by count), clamped at 0 against rounding."""
        if not self.count:
            return None
        mean = self.sum / self.count
        return max(self.sum_squared / self.count - mean * mean, 0.0)

    @property
    def stddev(self) -> float | None:
        """Population standard deviation: the square root of the variance."""
        variance = self.variance
        return None if variance is None else math.sqrt(variance)

    @property
    def sample_variance(self) -> float | None:
        """Sample variance (divides by count - 1), clamped at 0 against rounding; None below two values."""
        if self.count < 2:
            return None
        return max((self.sum_squared - self.sum * self.sum / self.count) / (self.count - 1), 0.0)

    @property
    def sample_stddev(self) -> float | None:
        """Sample standard deviation: the square root of the sample variance; None below two values."""
        variance = self.sample_variance
        return None if variance is None else math.sqrt(variance)

    @property
    def stderr(self) -> float | None:
        """Standard error of the mean: sample standard deviation over the square root of the count."""
        stddev = self.sample_stddev
        return None if stddev is None else stddev / math.sqrt(self.count)

    @property
    def ci95(self) -> tuple[float, float] | None:
        """The normal 95% confidence interval of the mean, mean +- Z_95 * stderr; None below two values."""
        stderr = self.stderr
        if stderr is None:
            return None
        mean = self.sum / self.count
        return mean - Z_95 * stderr, mean + Z_95 * stderr

    def uncertainty_str(self) -> str:
        """`mean +- stderr [low, high] (count)`: the mean with its standard error and 95% interval."""
        if not self.count:
            return "(0)"
        interval = self.ci95
        if interval is None:
            return f"{self.mean:.3f} ({self.count})"
        return f"{self.mean:.3f} \u00b1{self.stderr:.3f} [{interval[0]:.3f}, {interval[1]:.3f}] ({self.count})"

    def __str__(self) -> str:
        if not self.count:
            return f"{self.name}[(0)]"
        return (
            f"{self.name}[min={self.min:.3f}, mean={self.mean:.3f}, max={self.max:.3f}, "
            f"sum={self.sum:.3f} ({self.count})]"
        )


def merge_stats(into: dict[MetricName, Stat], stats: list[Stat]) -> dict[MetricName, Stat]:
    """Merge `stats` into the mapping `into` (by MetricName), copying on first sight; returns `into`."""
    for stat in stats:
        if stat.name in into:
            into[stat.name].merge(stat)
        else:
            into[stat.name] = stat.model_copy(deep=True)
    return into
