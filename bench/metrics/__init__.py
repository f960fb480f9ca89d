"""Metrics: per-instance Stats, merged per slice, plus figures derived from the merged Stats.

Built-in metrics (MetricSpec names, registered by `bench.load_builtins()`): reference_match, basic,
efficiency, language_modeling, calibration, dry_run; build them with `create_metric`. Figures with HELM's
names equal HELM 0.5.16's on the same inputs (the libraries HELM calls, called as HELM calls them); Mercury's
own variants have their own names (`squad_f1`, `ece_10_bin_equal_width`). A failed request leaves its
instance out of accuracy-type metrics; `basic` reports it as `request_failed=1`.
The text metrics `fn(gold, pred)` and the prediction helper are public for other folders' use.
"""

from bench.metrics._code import pass_at_k
from bench.metrics._ece import ece_equal_mass, ece_equal_width
from bench.metrics._exact_match import exact_match, prefix_exact_match, quasi_exact_match, quasi_prefix_exact_match
from bench.metrics._metric import METRICS, Metric, MetricContext, ToxicityService, create_metric, metric, plain
from bench.metrics._overlap import bleu_1, bleu_4, f1_score, rouge_l, squad_f1
from bench.metrics._perspective import PerspectiveToxicityService, build_toxicity_service
from bench.metrics._prediction import Prediction, predict
from bench.metrics._samples import SAMPLE_PREFIX, Sample, Samples, parse_sample_name, sample_stats, sorted_samples
from bench.metrics._sandbox import SandboxLimits, SandboxResult, run_python
from bench.metrics._text_metrics import TEXT_METRICS, best_over_references
from bench.metrics._text_normalize import normalize_text

__all__ = [
    "METRICS",
    "SAMPLE_PREFIX",
    "TEXT_METRICS",
    "Metric",
    "MetricContext",
    "PerspectiveToxicityService",
    "Prediction",
    "Sample",
    "Samples",
    "SandboxLimits",
    "SandboxResult",
    "ToxicityService",
    "best_over_references",
    "bleu_1",
    "bleu_4",
    "build_toxicity_service",
    "create_metric",
    "ece_equal_mass",
    "ece_equal_width",
    "exact_match",
    "f1_score",
    "metric",
    "normalize_text",
    "parse_sample_name",
    "pass_at_k",
    "plain",
    "predict",
    "prefix_exact_match",
    "quasi_exact_match",
    "quasi_prefix_exact_match",
    "rouge_l",
    "run_python",
    "sample_stats",
    "sorted_samples",
    "squad_f1",
]
