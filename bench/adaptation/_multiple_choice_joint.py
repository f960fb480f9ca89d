"""The multiple_choice_joint adapter: all choices in one prompt, the model answers with a letter.

    <instructions>

    Input: <train input>
    A. <reference 1>
    B. <reference 2>
    Output: B

    Input: <eval input>
    A. <reference 1>
    B. <reference 2>
    Output:

The letter is the first letter or digit of `reference_prefix` ("A" in "A. ", also in "(A) ", where HELM
would take the "("), incremented per choice (past "Z" it goes on through the character table, as in HELM).
"""

from __future__ import annotations

from bench._instance import Instance
from bench.adaptation._adapter import adapter
from bench.adaptation._adapter_spec import AdapterSpec
from bench.adaptation._errors import AdaptationError
from bench.adaptation._in_context import NO_CORRECT_REFERENCE, InContextLearningAdapter
from bench.adaptation._request_state import RequestState
from bench.tokenizers._tokenizer import Tokenizer

MIN_TOP_K = 5
"""Top logprobs asked per token at least, so that the metrics see every letter's probability."""


@adapter("multiple_choice_joint")
class MultipleChoiceJointAdapter(InContextLearningAdapter):
    """One request per evaluation instance and train trial; `output_mapping` turns letters into outputs."""

    def __init__(self, adapter_spec: AdapterSpec, tokenizer: Tokenizer, context_window: int) -> None:
        super().__init__(adapter_spec, tokenizer, context_window)
        letters = [c for c in adapter_spec.reference_prefix if c.isalnum()]
        if not letters:
            raise AdaptationError(
                method=adapter_spec.method,
                problem=f"reference_prefix {adapter_spec.reference_prefix!r} has no letter to number the choices",
            )
        self.first_letter = letters[0]

    def letter(self, index: int) -> str:
        """The label of choice `index` (0 -> "A")."""
        return chr(ord(self.first_letter) + index)

    def reference_prefix(self, index: int) -> str:
        """`reference_prefix` with its letter replaced by choice `index`'s ("A. " -> "C. " for 2)."""
        return self.adapter_spec.reference_prefix.replace(self.first_letter, self.letter(index), 1)

    def choices_block(self, instance: Instance) -> str:
        """Every choice on its own line: "A. x\\nB. y\\n" with the default prefixes."""
        suffix = self.adapter_spec.reference_suffix
        return "".join(self.reference_prefix(i) + ref.output + suffix for i, ref in enumerate(instance.references))

    def example_output(self, instance: Instance) -> str:
        """The letter of the example's first correct choice ("n/a" if none)."""
        index = next((i for i, ref in enumerate(instance.references) if ref.is_correct), None)
        return NO_CORRECT_REFERENCE if index is None else self.letter(index)

    def generate_requests(
        self, eval_instance: Instance, train_trial_index: int, examples: list[Instance]
    ) -> list[RequestState]:
        """One request state whose completion is the letter of the chosen reference."""
        fitted = self.fitted_eval_prompt(examples, eval_instance)
        output_mapping = {self.letter(i): ref.output for i, ref in enumerate(eval_instance.references)}
        state = self.sampled_state(
            eval_instance,
            train_trial_index,
            fitted,
            top_k_per_token=max(len(eval_instance.references), MIN_TOP_K),
        )
        return [state.model_copy(update={"output_mapping": output_mapping})]
