"""Metrics: per-instance Stats, merged per slice, plus figures derived from the merged Stats.

Built-in metrics (MetricSpec names, registered by `bench.load_builtins()`): reference_match, basic,
efficiency, language_modeling, calibration, dry_run; build them with `create_metric`. A failed request
leaves its instance out of accuracy-type metrics; `basic` reports it as `request_failed=1`.
The text metrics `fn(gold, pred)` and the prediction helper are public for other folders' use.
"""

from bench.metrics._code import pass_at_k
from bench.metrics._ece import expected_calibration_error
from bench.metrics._exact_match import exact_match, prefix_exact_match, quasi_exact_match, quasi_prefix_exact_match
from bench.metrics._metric import METRICS, Metric, MetricContext, ToxicityService, create_metric, metric, plain
from bench.metrics._overlap import bleu_1, bleu_4, f1_score, rouge_l, squad_f1
from bench.metrics._perspective import PerspectiveToxicityService, build_toxicity_service
from bench.metrics._prediction import Prediction, predict
from bench.metrics._sandbox import SandboxLimits, SandboxResult, run_python
from bench.metrics._text_metrics import TEXT_METRICS, best_over_references
from bench.metrics._text_normalize import normalize_text

__all__ = [
    "METRICS",
    "TEXT_METRICS",
    "Metric",
    "MetricContext",
    "PerspectiveToxicityService",
    "Prediction",
    "SandboxLimits",
    "SandboxResult",
    "ToxicityService",
    "best_over_references",
    "bleu_1",
    "bleu_4",
    "build_toxicity_service",
    "create_metric",
    "exact_match",
    "expected_calibration_error",
    "f1_score",
    "metric",
    "normalize_text",
    "pass_at_k",
    "plain",
    "predict",
    "prefix_exact_match",
    "quasi_exact_match",
    "quasi_prefix_exact_match",
    "rouge_l",
    "run_python",
    "squad_f1",
]
