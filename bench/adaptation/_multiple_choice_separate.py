"""The multiple_choice_separate adapters: each choice scored on its own as a continuation of the prompt.

original, one request per reference (the metrics pick the reference with the highest mean token logprob);
with the run specs' (HELM's) empty framing and output prefix " " the prompt is "<eval input> <reference i>":

    <instructions>

    <input prefix><eval input><input suffix><output prefix><reference i>

calibrated, in addition, per reference, the same prompt with "Answer:" as the input (HELM's
MultipleChoiceCalibratedAdapter), so that the metrics can divide out how likely the reference is without
the question (GPT-3 paper, section 2.4): "Answer: <reference i>" with HELM's framing.

Requests echo the prompt and generate nothing (max_tokens=0, temperature 0); `num_conditioning_tokens` says
where the scored tokens start (see `count_leading_tokens`: the token holding the output prefix's trailing
space, " Paris", belongs to the reference). No in-context examples are shown: in-context answers would
themselves be choices the model is conditioned on, and HELM's run specs use these methods zero-shot.
"""

from __future__ import annotations

import logging
from typing import Literal

from bench._instance import Instance
from bench._request import Request
from bench.adaptation._adapter import adapter
from bench.adaptation._in_context import InContextLearningAdapter
from bench.adaptation._prompt import count_leading_tokens
from bench.adaptation._request_state import RequestState

logger = logging.getLogger(__name__)

CALIBRATION_INPUT = "Answer:"
"""The input of a calibration request, in place of the question (HELM's)."""


@adapter("multiple_choice_separate_original")
class MultipleChoiceSeparateAdapter(InContextLearningAdapter):
    """One echo request per reference: the zero-shot prompt followed by the reference."""

    uses_examples = False

    def max_prompt_tokens(self) -> int:
        """The whole context window: the requests generate nothing."""
        return self.context_window

    def generate_requests(
        self, eval_instance: Instance, train_trial_index: int, examples: list[Instance]
    ) -> list[RequestState]:
        """One "original" request state per reference (examples are not used, see the module docstring)."""
        return [
            self.original_request(eval_instance, train_trial_index, index)
            for index in range(len(eval_instance.references))
        ]

    def original_request(self, eval_instance: Instance, train_trial_index: int, index: int) -> RequestState:
        """The prompt (instructions, input, output prefix) followed by reference `index`."""
        spec = self.adapter_spec
        reference = eval_instance.references[index].output
        suffix = spec.input_suffix + spec.output_prefix + reference
        fitted = self.fit(self.build_prompt([], eval_instance, suffix))
        if not fitted.text.endswith(reference):
            # Only when even an empty input does not fit and the prompt was cut from the right.
            logger.warning("reference %d of instance %s was cut to fit; nothing is scored", index, eval_instance.id)
        return self.echo_state(
            eval_instance, train_trial_index, index, "original", fitted.text, reference, fitted.truncated
        )

    def echo_state(
        self,
        eval_instance: Instance,
        train_trial_index: int,
        index: int,
        mode: Literal["original", "calibration"],
        prompt: str,
        reference: str,
        truncated: bool,
    ) -> RequestState:
        """A scoring request: `prompt` ends with `reference`, whose tokens are the scored ones."""
        spec = self.adapter_spec
        scored_from = len(prompt) - len(reference) if prompt.endswith(reference) else len(prompt)
        request = Request(
            model=spec.model,
            prompt=prompt,
            temperature=0.0,
            num_completions=1,
            max_tokens=0,
            echo_prompt=True,
            random=spec.random,
        )
        return RequestState(
            instance=eval_instance,
            reference_index=index,
            request_mode=mode,
            train_trial_index=train_trial_index,
            request=request,
            num_train_instances=0,
            prompt_truncated=truncated,
            num_conditioning_tokens=count_leading_tokens(self.tokenizer, prompt, scored_from),
        )


@adapter("multiple_choice_separate_calibrated")
class MultipleChoiceCalibratedAdapter(MultipleChoiceSeparateAdapter):
    """Like original, plus per reference a "calibration" request: the output prefix and the reference."""

    def generate_requests(
        self, eval_instance: Instance, train_trial_index: int, examples: list[Instance]
    ) -> list[RequestState]:
        """For each reference, its original request state, then its calibration request state."""
        states: list[RequestState] = []
        for index in range(len(eval_instance.references)):
            states.append(self.original_request(eval_instance, train_trial_index, index))
            states.append(self.calibration_request(eval_instance, train_trial_index, index))
        return states

    def calibration_request(self, eval_instance: Instance, train_trial_index: int, index: int) -> RequestState:
        """The original prompt of reference `index` with "Answer:" in place of the input (as HELM builds it)."""
        spec = self.adapter_spec
        reference = eval_instance.references[index].output
        suffix = spec.input_suffix + spec.output_prefix + reference
        fitted = self.fit(self.build_prompt([], eval_instance.model_copy(update={"input": CALIBRATION_INPUT}), suffix))
        return self.echo_state(
            eval_instance, train_trial_index, index, "calibration", fitted.text, reference, fitted.truncated
        )
