"""Expected calibration error with equal-width bins, computed from mergeable per-bin sums.

Each instance adds its confidence to `_ece_bin<b>_confidence` and its correctness (0/1) to
`_ece_bin<b>_correct`; a bin's size is the count of those Stats. Then
ECE = sum_b n_b/N * |acc_b - conf_b| = sum_b |correct_sum_b - confidence_sum_b| / N, exact after merging
Stats from any number of shards. (HELM uses equal-mass bins instead, which cannot be merged.)
"""

from __future__ import annotations

from collections.abc import Mapping

from bench._stat import Stat

NUM_BINS = 10


def ece_bin(confidence: float, num_bins: int = NUM_BINS) -> int:
    """Index of the equal-width bin of `confidence` on [0, 1]; 1.0 goes into the last bin."""
    return min(max(int(confidence * num_bins), 0), num_bins - 1)


def ece_stat_names(b: int) -> tuple[str, str]:
    """Names of the confidence and correctness Stats of bin `b` (hidden: they start with "_")."""
    return f"_ece_bin{b}_confidence", f"_ece_bin{b}_correct"


def expected_calibration_error(stats: Mapping[str, Stat], num_bins: int = NUM_BINS) -> float | None:
    """ECE from the merged per-bin Stats (keyed by plain name), or None when they hold no instance."""
    total = 0
    gap = 0.0
    for b in range(num_bins):
        confidence_name, correct_name = ece_stat_names(b)
        confidence = stats.get(confidence_name)
        correct = stats.get(correct_name)
        if confidence is None or correct is None or confidence.count == 0:
            continue
        total += confidence.count
        gap += abs(correct.sum - confidence.sum)
    return gap / total if total else None
