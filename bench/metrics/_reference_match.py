"""`reference_match`: text metrics between the predicted output and the instance's correct references.

Each named function is applied to the prediction and every correct reference; the instance's score is the
maximum over correct references (HELM's rule). For generation and joint multiple choice with
`num_outputs` k other than 1, each name also gets `<name>@k`: the maximum over correct references and all
k completions, as HELM's `compute_reference_metrics` reports it (`exact_match@5`). For multiple choice the
prediction is the chosen reference's output (see `_prediction`), and a completion that names no valid
choice scores 0; for the separate methods `exact_match` is HELM's: the fraction of the references tied for
the best score that are correct. An instance with a failed request, or with no correct reference, gets no
Stats (see `_states`).
"""

from __future__ import annotations

from collections.abc import Sequence

from bench._stat import Stat
from bench.adaptation._request_state import RequestState
from bench.metrics._metric import Metric, MetricContext, metric, plain
from bench.metrics._prediction import SEPARATE_METHODS, Prediction, predict
from bench.metrics._text_metrics import TEXT_METRICS, best_over_references, text_metric_names


@metric("reference_match")
class ReferenceMatchMetric(Metric):
    """Scores the prediction against the correct references with the named text metrics."""

    def __init__(self, names: str | Sequence[str]) -> None:
        """Args:
            names: text metrics to report, each a key of TEXT_METRICS (one name may be given as a str).

        Raises:
            ValueError: for an empty list or an unknown name (the message lists the valid names).
        """
        self.names = text_metric_names("reference_match", names)

    def evaluate_instance(self, request_states: Sequence[RequestState], context: MetricContext) -> list[Stat]:
        """One Stat per name (and per `<name>@k`), or none for a failed request or no correct reference."""
        golds = [reference.output for reference in request_states[0].instance.all_correct_references]
        method = context.adapter_spec.method
        pattern = context.adapter_spec.output_mapping_pattern
        prediction: Prediction | None = predict(request_states, method, context.tokenizer, pattern)
        if prediction is None or not golds:
            return []
        stats: list[Stat] = []
        num_outputs = context.adapter_spec.num_outputs
        for name in self.names:
            fn = TEXT_METRICS[name]
            if name == "exact_match" and prediction.tied_correct is not None:
                stats.append(plain(name, prediction.tied_correct))
            else:
                stats.append(plain(name, best_over_references(fn, golds, prediction.output)))
            if num_outputs != 1 and method not in SEPARATE_METHODS:
                best = max(best_over_references(fn, golds, output) for output in prediction.outputs)
                stats.append(plain(f"{name}@{num_outputs}", best))
        return stats
