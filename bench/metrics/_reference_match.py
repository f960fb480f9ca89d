"""`reference_match`: text metrics between the predicted output and the instance's correct references.

Each named function is applied to the prediction and every correct reference; the instance's score is the
maximum over correct references (HELM's rule). For multiple choice the prediction is the chosen
reference's output (see `_prediction`), and a completion that names no valid choice scores 0. An instance
with a failed request, or with no correct reference, gets no Stats (see `_states`).
"""

from __future__ import annotations

from collections.abc import Sequence

from bench._stat import Stat
from bench.adaptation._request_state import RequestState
from bench.metrics._metric import Metric, MetricContext, metric, plain
from bench.metrics._prediction import Prediction, predict
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
        """One Stat per name, or none for a failed request or an instance without a correct reference."""
        golds = [reference.output for reference in request_states[0].instance.all_correct_references]
        prediction: Prediction | None = predict(request_states, context.adapter_spec.method)
        if prediction is None or not golds:
            return []
        return [plain(name, best_over_references(TEXT_METRICS[name], golds, prediction.output)) for name in self.names]
