"""`basic`: per-instance bookkeeping that every run reports (failures, prompt shape, generation details).

`request_failed` is 1 when any request of the instance has no result or an unsuccessful one; those
instances are left out of reference_match, calibration and language_modeling, so this Stat is where they
show. Generation instances also report their first request's completions: how many, the first one's
logprob and token count, and the fraction of completions that ended for each finish reason.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench._request import GeneratedOutput
from bench._stat import Stat
from bench.adaptation._adapter_spec import ADAPT_GENERATION
from bench.adaptation._request_state import RequestState
from bench.metrics._metric import Metric, MetricContext, metric, plain
from bench.metrics._states import any_failed

FINISH_REASONS = ("length", "stop", "endoftext")


def completion_logprob(completion: GeneratedOutput) -> float:
    """Sum of the completion's token logprobs (its `logprob` field when it carries no tokens)."""
    if completion.tokens:
        return sum(token.logprob for token in completion.tokens)
    return completion.logprob


def finish_reason_stats(completions: Sequence[GeneratedOutput]) -> list[Stat]:
    """finish_reason_<reason> = fraction of completions that ended that way; `unknown` for None or others."""
    reasons = [c.finish_reason if c.finish_reason in FINISH_REASONS else "unknown" for c in completions]
    return [plain(f"finish_reason_{r}", reasons.count(r) / len(reasons)) for r in (*FINISH_REASONS, "unknown")]


def generation_stats(state: RequestState) -> list[Stat]:
    """num_completions, logprob and num_output_tokens of the first completion, finish reasons."""
    assert state.result is not None
    completions = state.result.completions
    stats = [plain("num_completions", len(completions))]
    if completions:
        first = completions[0]
        stats += [plain("logprob", completion_logprob(first)), plain("num_output_tokens", len(first.tokens))]
        stats += finish_reason_stats(completions)
    return stats


@metric("basic")
class BasicMetric(Metric):
    """request_failed, num_train_instances, prompt_truncated; generation details when the request succeeded."""

    def evaluate_instance(self, request_states: Sequence[RequestState], context: MetricContext) -> list[Stat]:
        """Stats of one instance; see the module docstring."""
        failed = any_failed(request_states)
        first = request_states[0]
        stats = [
            plain("request_failed", float(failed)),
            plain("num_train_instances", first.num_train_instances),
            plain("prompt_truncated", float(any(state.prompt_truncated for state in request_states))),
        ]
        if not failed and context.adapter_spec.method == ADAPT_GENERATION:
            stats += generation_stats(first)
        return stats
