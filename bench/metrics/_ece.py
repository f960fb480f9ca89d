"""Expected calibration error: HELM's equal-mass ECE from per-instance pairs, and an equal-width ECE from sums.

- `ece_equal_mass` is HELM's `ece_10_bin` (and `ece_1_bin`): it calls uncertainty-calibration's
  `get_ece_em` (and `get_ece` for one bin) as helm/benchmark/metrics/basic_metrics.py does. Equal-mass bins
  hold equal numbers of instances, so their edges come from the sorted confidences of all instances: the
  run keeps every instance's (confidence, correct) pair until the end (`_samples`).
- `ece_equal_width` is Mercury's own `ece_10_bin_equal_width`: bins of width 1/10 on [0, 1]. Each instance
  adds its confidence to `_ece_bin<b>_confidence` and its correctness (0/1) to `_ece_bin<b>_correct`; a bin's
  size is the count of those Stats. Then ECE = sum_b n_b/N * |acc_b - conf_b| = sum_b |correct_sum_b -
  confidence_sum_b| / N, exact after merging Stats from any number of shards. The per-bin Stats also draw
  the reliability curve of the presented site.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bench._stat import Stat

NUM_BINS = 10


def ece_equal_mass(confidences: Sequence[float], correct: Sequence[float], num_bins: int = NUM_BINS) -> float:
    """HELM's ECE over `num_bins` equal-mass bins: `calibration.get_ece_em(confidences, correct, num_bins)`.

    With one bin, HELM's `ece_1_bin` calls `calibration.get_ece(..., num_bins=1)`; so does this (a single bin
    is the same for both binnings). `correct` values are 0 or 1 (HELM passes `int(exact_match)`).

    Raises:
        ValueError: if the sequences are empty or differ in length, or `num_bins` < 1.
    """
    if not confidences or len(confidences) != len(correct):
        raise ValueError(
            f"ECE needs one correctness per confidence and at least one pair; got {len(confidences)} "
            f"confidences and {len(correct)} correctness values"
        )
    if num_bins < 1:
        raise ValueError(f"ECE num_bins must be at least 1; got {num_bins}")
    import calibration  # uncertainty-calibration, imported here: it pulls in scikit-learn

    labels = [int(value) for value in correct]
    if num_bins == 1:
        return float(calibration.get_ece(list(confidences), labels, num_bins=1))
    return float(calibration.get_ece_em(list(confidences), labels, num_bins=num_bins))


def ece_bin(confidence: float, num_bins: int = NUM_BINS) -> int:
    """Index of the equal-width bin of `confidence` on [0, 1]; 1.0 goes into the last bin."""
    return min(max(int(confidence * num_bins), 0), num_bins - 1)


def ece_stat_names(b: int) -> tuple[str, str]:
    """Names of the confidence and correctness Stats of equal-width bin `b` (hidden: they start with "_")."""
    return f"_ece_bin{b}_confidence", f"_ece_bin{b}_correct"


def ece_equal_width(stats: Mapping[str, Stat], num_bins: int = NUM_BINS) -> float | None:
    """Equal-width ECE from the merged per-bin Stats (keyed by plain name), or None when they hold no instance."""
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
