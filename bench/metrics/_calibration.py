"""`calibration`: how well multiple-choice confidence matches accuracy (max_prob and ece_10_bin).

Per instance the predicted choice's probability (see `_prediction`) is reported as `max_prob`, and, with
its correctness (exact match with a correct reference), as the hidden per-bin Stats of `_ece`, from which
`derive` computes ece_10_bin of a slice exactly. Other adaptation methods, and instances with a failed
request, get no Stats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bench._stat import Stat
from bench.adaptation._request_state import RequestState
from bench.metrics._ece import NUM_BINS, ece_bin, ece_stat_names, expected_calibration_error
from bench.metrics._exact_match import exact_match
from bench.metrics._metric import Metric, MetricContext, metric, plain
from bench.metrics._prediction import MULTIPLE_CHOICE_METHODS, predict
from bench.metrics._text_metrics import best_over_references


@metric("calibration")
class CalibrationMetric(Metric):
    """max_prob per instance and ece_10_bin per slice, for the multiple-choice methods."""

    def evaluate_instance(self, request_states: Sequence[RequestState], context: MetricContext) -> list[Stat]:
        """max_prob and the instance's ECE bin Stats; none for other methods or a failed request."""
        method = context.adapter_spec.method
        if method not in MULTIPLE_CHOICE_METHODS:
            return []
        prediction = predict(request_states, method, context.tokenizer, context.adapter_spec.output_mapping_pattern)
        if prediction is None:
            return []
        confidence = prediction.probability if prediction.probability is not None else 0.0
        golds = [reference.output for reference in request_states[0].instance.all_correct_references]
        correct = (  # HELM's exact_match: for the separate methods, ties share the credit
            prediction.tied_correct
            if prediction.tied_correct is not None
            else best_over_references(exact_match, golds, prediction.output)
        )
        confidence_name, correct_name = ece_stat_names(ece_bin(confidence))
        return [
            plain("max_prob", confidence),
            plain(confidence_name, confidence),
            plain(correct_name, correct),
        ]

    def derive(self, stats: Mapping[str, Stat], context: MetricContext) -> list[Stat]:
        """ece_10_bin of the slice (absent when the slice has no calibration Stats)."""
        ece = expected_calibration_error(stats)
        return [] if ece is None else [plain(f"ece_{NUM_BINS}_bin", ece)]
