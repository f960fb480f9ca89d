"""`calibration`: how well multiple-choice confidence matches accuracy (max_prob, ece_10_bin, ece_1_bin).

Per instance the predicted choice's probability (see `_prediction`) is reported as `max_prob`, and, with
its correctness (exact match with a correct reference), twice more:

- as a sample (`_sample:calibration:confidence`, `...:correct`, `...:trial`; see `_samples`), from which
  `derive_samples` computes HELM's `ece_10_bin` (equal-mass bins) and `ece_1_bin`, per train trial then
  averaged over trials as HELM does;
- as the hidden equal-width per-bin Stats of `_ece`, from which `derive` computes Mercury's own
  `ece_10_bin_equal_width` (and the site draws the reliability curve).

Other adaptation methods, and instances with a failed request, get no Stats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bench._stat import Stat
from bench.adaptation._request_state import RequestState
from bench.metrics._ece import NUM_BINS, ece_bin, ece_equal_mass, ece_equal_width, ece_stat_names
from bench.metrics._exact_match import exact_match
from bench.metrics._metric import Metric, MetricContext, metric, plain
from bench.metrics._prediction import MULTIPLE_CHOICE_METHODS, predict
from bench.metrics._samples import Samples, sample_stats
from bench.metrics._text_metrics import best_over_references

SAMPLE_KIND = "calibration"
"""The kind of this metric's samples: fields `confidence`, `correct` (0/1) and `trial` (train trial index)."""


@metric("calibration")
class CalibrationMetric(Metric):
    """max_prob per instance; ece_10_bin, ece_1_bin and ece_10_bin_equal_width per slice (multiple choice)."""

    def evaluate_instance(self, request_states: Sequence[RequestState], context: MetricContext) -> list[Stat]:
        """max_prob, the instance's sample and its equal-width bin Stats; none for other methods or a failure."""
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
        trial = float(request_states[0].train_trial_index)
        confidence_name, correct_name = ece_stat_names(ece_bin(confidence))
        return [
            plain("max_prob", confidence),
            *sample_stats(SAMPLE_KIND, {"confidence": confidence, "correct": correct, "trial": trial}),
            plain(confidence_name, confidence),
            plain(correct_name, correct),
        ]

    def derive(self, stats: Mapping[str, Stat], context: MetricContext) -> list[Stat]:
        """ece_10_bin_equal_width of the slice (absent when the slice has no calibration Stats)."""
        ece = ece_equal_width(stats)
        return [] if ece is None else [plain(f"ece_{NUM_BINS}_bin_equal_width", ece)]

    def derive_samples(self, samples: Samples, context: MetricContext) -> list[Stat]:
        """HELM's ece_10_bin and ece_1_bin of the slice: one value per train trial (the Stat's mean is HELM's).

        HELM computes both per train trial, on that trial's instances in its order, and averages the trials.
        Here each trial's pairs come in the canonical sorted order; the binning does not depend on the order,
        and the means within a bin only in the last bits.
        """
        by_trial: dict[float, tuple[list[float], list[float]]] = {}
        for sample in samples.get(SAMPLE_KIND, []):
            confidences, correct = by_trial.setdefault(sample["trial"], ([], []))
            confidences.append(sample["confidence"])
            correct.append(sample["correct"])
        if not by_trial:
            return []
        trials = [by_trial[trial] for trial in sorted(by_trial)]
        return [
            plain(f"ece_{NUM_BINS}_bin", *(ece_equal_mass(c, y, NUM_BINS) for c, y in trials)),
            plain("ece_1_bin", *(ece_equal_mass(c, y, 1) for c, y in trials)),
        ]
