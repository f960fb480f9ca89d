"""The text metrics `fn(gold, pred)` by name, and the max-over-references rule that applies them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bench.metrics._exact_match import exact_match, prefix_exact_match, quasi_exact_match, quasi_prefix_exact_match
from bench.metrics._overlap import bleu_1, bleu_4, f1_score, rouge_l, squad_f1

TextMetricFunction = Callable[[str, str], float]

TEXT_METRICS: dict[str, TextMetricFunction] = {
    "exact_match": exact_match,
    "quasi_exact_match": quasi_exact_match,
    "prefix_exact_match": prefix_exact_match,
    "quasi_prefix_exact_match": quasi_prefix_exact_match,
    "f1_score": f1_score,
    "rouge_l": rouge_l,
    "bleu_1": bleu_1,
    "bleu_4": bleu_4,
    "squad_f1": squad_f1,
}
"""Text metrics by the name reference_match reports them under. Each name HELM also has gives HELM's number;
`squad_f1` is Mercury's own (SQuAD's multiset F1)."""


def best_over_references(fn: TextMetricFunction, golds: Sequence[str], pred: str | None) -> float:
    """max over `golds` of fn(gold, pred) (HELM's rule); 0 when there is no valid prediction or no gold."""
    if pred is None or not golds:
        return 0.0
    return max(fn(gold, pred) for gold in golds)


def text_metric_names(metric: str, names: str | Sequence[str]) -> list[str]:
    """`names` as a list without repeats (one name may be a str), checked against TEXT_METRICS.

    Raises:
        ValueError: naming `metric`, the problem (no names, unknown ones) and the valid names.
    """
    names = [names] if isinstance(names, str) else list(names)
    unknown = [name for name in names if name not in TEXT_METRICS]
    if unknown or not names:
        problem = f"unknown names {unknown}" if unknown else "no names given"
        raise ValueError(f"{metric}: {problem}; valid names: {', '.join(TEXT_METRICS)}")
    return list(dict.fromkeys(names))
