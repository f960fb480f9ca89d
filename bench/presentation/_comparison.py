"""Is one model's lead on a scenario more than noise? A paired test on the instances both models answered.

Two runs of the same scenario variant score the same instances (the evaluation subset and perturbations are
seeded), so their difference is measured per instance: d_i = a_i - b_i over the instances (and train trials)
both runs scored on their evaluation split, original instances only. The mean of the d_i is the difference of
the two means on those instances; its standard error is the sample standard deviation of the d_i over the
square root of their count, and its 95% interval is the normal one, mean +- 1.96 standard errors (the same
formulas as every Stat's, bench._stat). The difference is *within noise* when that interval contains 0.
Pairing removes the variation that comes from some instances being harder than others, so it separates
models that unpaired intervals (which overlap) would not.
"""

from __future__ import annotations

from collections.abc import Mapping

from bench._stat import Stat
from bench.presentation._model import PairedComparison


def paired_comparison(
    column: str, model_a: str, values_a: Mapping[str, float], model_b: str, values_b: Mapping[str, float]
) -> PairedComparison | None:
    """The paired difference `model_a - model_b` on the instances both scored; None when fewer than two are
    shared (no standard error can be had from one difference).

    Args:
        column: the scenario variant (the runs' name without the model).
        values_a: per-instance main metric of model_a's run, by instance key (see RunSummary.main_values).
        values_b: the same for model_b's run.
    """
    shared = [key for key in values_a if key in values_b]
    difference = Stat.of("difference", *(values_a[key] - values_b[key] for key in shared))
    interval, stderr, mean = difference.ci95, difference.stderr, difference.mean
    if interval is None or stderr is None or mean is None:
        return None
    return PairedComparison(
        column=column,
        model_a=model_a,
        model_b=model_b,
        count=difference.count,
        mean_difference=mean,
        stderr=stderr,
        ci_low=interval[0],
        ci_high=interval[1],
        within_noise=interval[0] <= 0.0 <= interval[1],
    )
