"""`top_k_match`: whether any of an instance's k completions matches a correct reference (accuracy@k).

Generation with `num_outputs=k` (and a temperature above 0, so that the completions differ) asks for k
guesses; HELM's WikiFact counts an instance as answered when one of them is right. For each named text
metric (`exact_match`, `quasi_exact_match`, ...; see TEXT_METRICS) the instance scores the maximum over its
completions of the maximum over its correct references, reported as `<name>@k` with k the number of completions
requested. `reference_match` keeps scoring the first completion only, so both views are available.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench._stat import Stat
from bench.adaptation._request_state import RequestState
from bench.metrics._metric import Metric, MetricContext, metric, plain
from bench.metrics._states import any_failed
from bench.metrics._text_metrics import TEXT_METRICS, best_over_references, text_metric_names


@metric("top_k_match")
class TopKMatchMetric(Metric):
    """`<name>@k`: 1 if one of the k completions matches a correct reference under the named text metric."""

    def __init__(self, names: str | Sequence[str] = ("exact_match", "quasi_exact_match")) -> None:
        """Args:
            names: text metrics to apply, keys of TEXT_METRICS (one name may be given as a str).

        Raises:
            ValueError: for an empty list or an unknown name (the message lists the valid names).
        """
        self.names = text_metric_names("top_k_match", names)

    def evaluate_instance(self, request_states: Sequence[RequestState], context: MetricContext) -> list[Stat]:
        """One Stat per name, or none for a failed request or an instance without a correct reference."""
        state = request_states[0]
        golds = [reference.output for reference in state.instance.all_correct_references]
        if any_failed(request_states) or not golds or state.result is None:
            return []
        predictions = [completion.text.strip() for completion in state.result.completions] or [""]
        k = state.request.num_completions
        return [
            plain(f"{name}@{k}", max(best_over_references(TEXT_METRICS[name], golds, p) for p in predictions))
            for name in self.names
        ]
