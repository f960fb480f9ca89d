"""Failed requests: when a run is complete, what a rerun retries, and accuracy with failures counted as wrong.

This is the one completeness rule of the pipeline (bench.runner.Runner), whatever executes it (in-process or
`RayExecution`), so a failure never hides inside a score:

- A request must be retried when it has no result or failed with a *retriable* error (rate limit, timeout,
  5xx, an unreachable service): a rerun sends it again. A *fatal* failure (the provider refused the request
  itself: a prompt too long, a bad parameter) is kept as it is: sending the same request again gives the same
  answer, so a rerun does not repeat it (`--force` recomputes everything).
- A stored piece of a run (one request in-process, one shard on Ray) counts as finished only when none of its
  requests must be retried; resume reruns only what did not finish.
- A run is complete, and writes its completion marker (`stats.json`, written last), only when its failed
  requests, retriable and fatal alike, are at most `max_failed_fraction` of its requests (default 0: none).
  An incomplete run keeps everything else it wrote, records why in `error.json` and `run_info.json`, and the
  command exits non-zero.

Accuracy-type metrics leave a failed instance out (see bench.metrics), so `exact_match` is accuracy over the
answered instances. `with_failures_as_zero` adds beside each of them `<name>_all`: the same figure over every
instance, a failed one counting 0, derived exactly from the merged Stats (so it merges across shards too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from bench._request import RequestResult
from bench._stat import MetricName, Stat

FAILED_STAT = "request_failed"
"""The per-instance Stat (metric `basic`) that is 1 for an instance with a failed request."""

ALL_SUFFIX = "_all"
"""Suffix of an accuracy figure that counts failed instances as 0."""

ACCURACY_METRICS = frozenset(
    {
        "exact_match",
        "quasi_exact_match",
        "prefix_exact_match",
        "quasi_prefix_exact_match",
        "f1_score",
        "squad_f1",
        "rouge_l",
        "bleu_1",
        "bleu_4",
        "pass@1",
    }
)
"""Scores in [0, 1] where a failed instance, had it been scored, could at worst have scored 0 (variants with
`@k`, e.g. `exact_match@5`, count too). Perplexity-like figures have no such worst value and get no `_all`."""


def is_accuracy_metric(name: str) -> bool:
    """Whether `name` is an accuracy-type figure that gets an `_all` variant (see ACCURACY_METRICS)."""
    return name in ACCURACY_METRICS or name.split("@", 1)[0] in ACCURACY_METRICS


def must_retry(result: RequestResult | None) -> bool:
    """Whether a rerun sends this request again: no result yet, or a failure that is not fatal.

    A failure with no `error_kind` counts as retriable: nothing says retrying is pointless.
    """
    return result is None or (not result.success and result.error_kind != "fatal")


def is_failed(result: RequestResult | None) -> bool:
    """Whether the request has no result or an unsuccessful one (retriable or fatal)."""
    return result is None or not result.success


@dataclass(frozen=True)
class FailureCounts:
    """How many of a run's (or a shard's) requests failed, and how many of those a rerun would retry."""

    num_requests: int
    num_failed: int
    num_retriable: int

    @classmethod
    def of(cls, results: Iterable[RequestResult | None]) -> FailureCounts:
        """Counts over the results of some requests (None: a request that has no result)."""
        total = failed = retriable = 0
        for result in results:
            total += 1
            failed += is_failed(result)
            retriable += must_retry(result)
        return cls(total, failed, retriable)

    @property
    def failed_fraction(self) -> float:
        """Failed requests over all requests (0 for no request)."""
        return self.num_failed / self.num_requests if self.num_requests else 0.0

    @property
    def finished(self) -> bool:
        """Whether a stored piece with these counts is finished: resume retries it when it is not."""
        return self.num_retriable == 0


@dataclass(frozen=True)
class FailurePolicy:
    """How many failed requests a run may have and still be complete.

    Args:
        max_failed_fraction: largest allowed share of failed requests, in [0, 1]; 0 (the default) allows none.

    Raises:
        ValueError: if `max_failed_fraction` is outside [0, 1].
    """

    max_failed_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_failed_fraction <= 1.0:
            raise ValueError(
                f"max_failed_fraction={self.max_failed_fraction!r} must be a fraction between 0 and 1 "
                "(0: any failed request makes the run incomplete)"
            )

    def is_complete(self, counts: FailureCounts) -> bool:
        """Whether a run with `counts` is complete: its failed share is at most `max_failed_fraction`."""
        return counts.num_failed == 0 or counts.failed_fraction <= self.max_failed_fraction

    def incomplete_message(self, run_name: str, counts: FailureCounts) -> str:
        """One line for a run that is not complete: which run, how many failed, how to finish it."""
        fatal = counts.num_failed - counts.num_retriable
        how = []
        if counts.num_retriable:
            how.append(f"rerun the same command to retry the {counts.num_retriable} retriable ones")
        if fatal:
            how.append(f"{fatal} failed for good (the provider refused them): fix the cause and rerun with --force")
        how.append(f"or accept them with --max-failed-fraction {_ceil_fraction(counts.failed_fraction)}")
        return (
            f"run {run_name} is incomplete: {counts.num_failed} of {counts.num_requests} requests failed "
            f"({counts.failed_fraction:.1%}, above --max-failed-fraction {self.max_failed_fraction:g}); "
            + "; ".join(how)
        )

    def complete_message(self, run_name: str, counts: FailureCounts) -> str | None:
        """One line for a run that is complete only because failures are allowed; None for a run without any."""
        if not counts.num_failed:
            return None
        return (
            f"run {run_name} is complete with {counts.num_failed} of {counts.num_requests} requests failed "
            f"({counts.failed_fraction:.1%}, within --max-failed-fraction {self.max_failed_fraction:g})"
        )


def _ceil_fraction(fraction: float) -> str:
    """`fraction` rounded up to 3 decimals, so the suggested threshold does admit it."""
    thousandths = -(-round(fraction * 1e6) // 1000)
    return f"{thousandths / 1000:g}"


def with_failures_as_zero(stats: Mapping[str, Stat], names: Iterable[str] = ()) -> list[Stat]:
    """`<name>_all` for each accuracy-type Stat of one slice: failed instances added as values 0.

    Args:
        stats: the slice's merged Stats by name.
        names: more accuracy-type names to cover (those of the run's other slices): a slice where every
            instance failed has no `exact_match` of its own, yet its `exact_match_all` is 0 over them.

    Failed instances are the slice's `request_failed` sum (one per failed instance and train trial), so
    `<name>_all` has count = answered + failed, the same sum and sum of squares, and min lowered to 0 when
    any failed. Nothing is returned for a slice without `request_failed` (the `basic` metric did not run).
    """
    failed_stat = stats.get(FAILED_STAT)
    if failed_stat is None:
        return []
    failed = round(failed_stat.sum)
    out = []
    for name in sorted({*(n for n in stats if is_accuracy_metric(n)), *names}, key=_first_seen(stats)):
        derived = Stat(name=MetricName(name=name + ALL_SUFFIX))
        if name in stats:
            derived.merge(stats[name])
        if failed:
            derived.merge_figures(failed, 0.0, 0.0, 0.0, 0.0)
        if derived.count:
            out.append(derived)
    return out


def _first_seen(stats: Mapping[str, Stat]) -> Callable[[str], tuple[int, str]]:
    """Sort key: the slice's own names in their order, then the others by name."""
    order = {name: index for index, name in enumerate(stats)}
    return lambda name: (order.get(name, len(order)), name)
