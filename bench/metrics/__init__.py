"""Metrics: per-instance Stats, merged per slice, plus figures derived from the merged Stats."""

from bench.metrics._metric import METRICS, Metric, MetricContext, create_metric, metric

__all__ = ["METRICS", "Metric", "MetricContext", "create_metric", "metric"]
