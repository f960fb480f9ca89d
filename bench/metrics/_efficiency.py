"""`efficiency`: what an instance cost to run, summed over its request states.

- inference_runtime: seconds the model took (`result.request_time`); absent when no state has a time.
- num_prompt_tokens: the prompts' tokens by the run's tokenizer.
- num_completion_tokens: generated tokens over all completions. Echoed prompt tokens are not generated:
  with `echo_prompt` and `max_tokens=0` every returned token is the prompt's; with `echo_prompt` and
  generation, the prompt's token count (by the run's tokenizer) is subtracted.
- cached: 1 when every request of the instance that has a result was served from the cache, else 0.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench._stat import Stat
from bench.adaptation._request_state import RequestState
from bench.metrics._metric import Metric, MetricContext, metric, plain
from bench.metrics._states import count_prompt_tokens


def generated_token_count(state: RequestState, prompt_tokens: int) -> int:
    """Tokens the model generated for this state, over all its completions, echoed prompt excluded."""
    if state.result is None:
        return 0
    total = 0
    for completion in state.result.completions:
        if not state.request.echo_prompt:
            total += len(completion.tokens)
        elif state.request.max_tokens > 0:
            total += max(0, len(completion.tokens) - prompt_tokens)
    return total


@metric("efficiency")
class EfficiencyMetric(Metric):
    """inference_runtime, num_prompt_tokens, num_completion_tokens, cached; see the module docstring."""

    def evaluate_instance(self, request_states: Sequence[RequestState], context: MetricContext) -> list[Stat]:
        """Sums over the instance's request states."""
        prompt_counts = [count_prompt_tokens(state.request, context.tokenizer) for state in request_states]
        completion_tokens = sum(
            generated_token_count(state, count) for state, count in zip(request_states, prompt_counts)
        )
        stats = [plain("num_prompt_tokens", sum(prompt_counts)), plain("num_completion_tokens", completion_tokens)]
        results = [state.result for state in request_states if state.result is not None]
        times = [result.request_time for result in results if result.request_time is not None]
        if times:
            stats.append(plain("inference_runtime", sum(times)))
        if results:
            stats.append(plain("cached", float(all(result.cached for result in results))))
        return stats
