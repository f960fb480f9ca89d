"""`code`: functional correctness of generated code (HumanEval's pass@1 and pass@k).

Each completion is appended to the prompt (the function's signature and docstring), followed by the
instance's test program (a reference tagged `test_program`, which ends by calling `check(<entry point>)`),
and the whole runs in the sandbox (`_sandbox`): it passes when it exits with status 0. A completion that
loops, allocates without end or crashes is stopped and counts as a failure.

With n completions of which c pass, pass@k is the unbiased estimator of Chen et al. (2021),
1 - C(n-c, k) / C(n, k): the chance that at least one of k completions drawn without replacement passes.
pass@1 is c/n. pass@k needs n >= k (num_outputs >= k); otherwise it is not reported for the instance.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from math import comb

from bench._stat import Stat
from bench.adaptation._request_state import RequestState
from bench.metrics._metric import Metric, MetricContext, metric, plain
from bench.metrics._sandbox import SandboxLimits, run_python
from bench.metrics._states import any_failed

logger = logging.getLogger(__name__)

TEST_PROGRAM_TAG = "test_program"
"""Tag of the reference holding an instance's test program (the HumanEval scenario writes the same literal)."""


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k from n samples of which c are correct.

    Raises:
        ValueError: unless 0 <= c <= n and 1 <= k <= n.
    """
    if not (0 <= c <= n and 1 <= k <= n):
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n; got n={n}, c={c}, k={k}")
    return 1.0 - comb(n - c, k) / comb(n, k)


def find_test_program(states: Sequence[RequestState]) -> str | None:
    """The instance's test program, or None when it has none."""
    return next((r.output for r in states[0].instance.references if TEST_PROGRAM_TAG in r.tags), None)


@metric("code")
class CodeMetric(Metric):
    """pass@1 and pass@k of an instance's completions, each run against its tests in the sandbox."""

    def __init__(self, k: int = 1, timeout_seconds: float = 5.0) -> None:
        """Args:
            k: besides pass@1, report pass@k (when k > 1).
            timeout_seconds: wall-clock and CPU limit for one completion's run.

        Raises:
            ValueError: for k < 1 or a timeout that is not positive.
        """
        if k < 1 or timeout_seconds <= 0:
            raise ValueError(f"code: k={k} must be >= 1 and timeout_seconds={timeout_seconds} > 0")
        self.k = k
        self.limits = SandboxLimits(timeout_seconds=timeout_seconds, cpu_seconds=max(1, round(timeout_seconds)))
        self._warned_small_n = False

    def evaluate_instance(self, request_states: Sequence[RequestState], context: MetricContext) -> list[Stat]:
        """pass@1 (and pass@k); no Stats for a failed request or an instance without a test program."""
        tests = find_test_program(request_states)
        state = request_states[0]
        if any_failed(request_states) or tests is None or state.result is None or not state.result.completions:
            return []
        outcomes = [self.passes(state.request.prompt, c.text, tests) for c in state.result.completions]
        n, c = len(outcomes), sum(outcomes)
        stats = [plain("pass@1", pass_at_k(n, c, 1))]
        if self.k > 1:
            if n >= self.k:
                stats.append(plain(f"pass@{self.k}", pass_at_k(n, c, self.k)))
            elif not self._warned_small_n:
                self._warned_small_n = True
                logger.warning("code: pass@%d needs at least %d completions per instance, got %d", self.k, self.k, n)
        return stats

    def passes(self, prompt: str, completion: str, tests: str) -> bool:
        """Whether prompt + completion passes `tests` in the sandbox."""
        return run_python(f"{prompt}{completion}\n\n{tests}", self.limits).passed
