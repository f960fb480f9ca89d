"""`dry_run`: what an instance would cost, from its requests alone (no result needed; used by --dry-run).

Summed over the instance's request states: num_requests, num_prompt_tokens (the run's tokenizer),
max_num_output_tokens (max_tokens * num_completions, an upper bound), estimated_number_of_tokens (their
sum) and estimated_cost in USD from the deployment's prices.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench._stat import Stat
from bench.adaptation._request_state import RequestState
from bench.metrics._metric import Metric, MetricContext, metric, plain
from bench.metrics._states import count_prompt_tokens


@metric("dry_run")
class DryRunMetric(Metric):
    """Request and token counts and the estimated cost of one instance."""

    def evaluate_instance(self, request_states: Sequence[RequestState], context: MetricContext) -> list[Stat]:
        """Sums over the instance's request states."""
        prompt_tokens = sum(count_prompt_tokens(state.request, context.tokenizer) for state in request_states)
        output_tokens = sum(state.request.max_tokens * state.request.num_completions for state in request_states)
        return [
            plain("num_requests", len(request_states)),
            plain("num_prompt_tokens", prompt_tokens),
            plain("max_num_output_tokens", output_tokens),
            plain("estimated_number_of_tokens", prompt_tokens + output_tokens),
            plain("estimated_cost", context.deployment.estimate_cost(prompt_tokens, output_tokens)),
        ]
