"""The generation adapter: the model writes the output after the in-context examples.

<instructions>

Input: <train input>
Output: <its first correct reference>

Input: <eval input>
Output:
"""

from __future__ import annotations

from bench._instance import Instance
from bench.adaptation._adapter import adapter
from bench.adaptation._in_context import InContextLearningAdapter
from bench.adaptation._request_state import RequestState


@adapter("generation")
class GenerationAdapter(InContextLearningAdapter):
    """One request per evaluation instance and train trial, sampled with the spec's decoding parameters."""

    def generate_requests(
        self, eval_instance: Instance, train_trial_index: int, examples: list[Instance]
    ) -> list[RequestState]:
        """One request state: the fitted prompt, ending with the output prefix."""
        fitted = self.fitted_eval_prompt(examples, eval_instance)
        return [self.sampled_state(eval_instance, train_trial_index, fitted)]
