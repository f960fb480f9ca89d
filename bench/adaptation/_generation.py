"""The generation adapter: the model writes the output after the in-context examples.

<instructions>

Input: <train input>
Output: <its first correct reference>

Input: <eval input>
Output:
"""

from __future__ import annotations

from bench._instance import Instance
from bench._request import Request
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
        spec = self.adapter_spec
        suffix = spec.input_suffix + self.choices_block(eval_instance) + self.open_output_prefix()
        fitted = self.fit(self.build_prompt(examples, eval_instance, suffix))
        request = Request(
            model=spec.model,
            prompt=fitted.text,
            temperature=spec.temperature,
            num_completions=spec.num_outputs,
            max_tokens=spec.max_tokens,
            stop_sequences=spec.stop_sequences,
            random=spec.random,
        )
        state = RequestState(
            instance=eval_instance,
            train_trial_index=train_trial_index,
            request=request,
            num_train_instances=fitted.num_train_instances,
            prompt_truncated=fitted.truncated,
        )
        return [state]
