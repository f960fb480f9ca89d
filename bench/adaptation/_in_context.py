"""What the prompting adapters share: drawing in-context examples and building and fitting prompts.

For each train trial t in range(num_train_trials) the examples are drawn with `random.Random(t)`, so a run
is reproducible from its spec; every evaluation instance of that trial sees the same examples (as in HELM).
Request states come out trial by trial, and within a trial in instance order.
"""

from __future__ import annotations

import logging
import random
from abc import ABC, abstractmethod
from typing import Any

from bench._instance import TRAIN_SPLIT, Instance
from bench._request import Request
from bench.adaptation._adapter import Adapter
from bench.adaptation._adapter_spec import AdapterSpec
from bench.adaptation._errors import AdaptationError
from bench.adaptation._prompt import FittedPrompt, Prompt, fit_prompt
from bench.adaptation._request_state import RequestState
from bench.tokenizers._tokenizer import Tokenizer

logger = logging.getLogger(__name__)

NO_CORRECT_REFERENCE = "n/a"
"""The output an in-context example shows when it has no correct reference (HELM's choice)."""


def sample_examples(train_instances: list[Instance], count: int, seed: int, sample: bool = True) -> list[Instance]:
    """The in-context examples for one train trial.

    With `sample`, draws so that the examples cover the correct labels (HELM's rule): labels (first correct
    reference outputs) are ordered by how many train instances have them, most first, ties in a seeded random
    order; then one instance is drawn at random from each label in turn until `count` are chosen; instances
    without a correct reference fill what is left. Without `sample`, the first `count` train instances (the
    same for every trial).

    Args:
        train_instances: the train split, in scenario order.
        count: examples wanted (fewer are returned if there are fewer train instances).
        seed: the train trial index; the same seed gives the same examples.
        sample: draw at random (seeded) rather than take the first ones.

    Returns:
        The examples, in the order they appear in the prompt.
    """
    count = min(count, len(train_instances))
    if not sample:
        return train_instances[:count]
    rng = random.Random(seed)
    pools: dict[str, list[Instance]] = {}
    unlabeled: list[Instance] = []
    for instance in train_instances:
        reference = instance.first_correct_reference
        if reference is None:
            unlabeled.append(instance)
        else:
            pools.setdefault(reference.output, []).append(instance)
    labels = sorted(pools)
    rng.shuffle(labels)
    labels.sort(key=lambda label: -len(pools[label]))  # stable: ties keep their shuffled order
    chosen: list[Instance] = []
    while len(chosen) < count and any(pools.values()):
        for label in labels:
            pool = pools[label]
            if pool and len(chosen) < count:
                chosen.append(pool.pop(rng.randrange(len(pool))))
    chosen.extend(rng.sample(unlabeled, count - len(chosen)))
    return chosen


def correct_output(instance: Instance) -> str:
    """The output an in-context example shows: its first correct reference, or "n/a"."""
    reference = instance.first_correct_reference
    return NO_CORRECT_REFERENCE if reference is None else reference.output


class InContextLearningAdapter(Adapter, ABC):
    """Base of the prompting adapters: splits instances, draws examples per trial, builds fitted prompts.

    Subclasses say which requests an evaluation instance needs (`generate_requests`) and, if they show more
    than input and output, what an example looks like (`choices_block`, `example_output`).
    """

    uses_examples: bool = True
    """False for adapters that prompt zero-shot: no examples are drawn and no shortage is reported."""

    def __init__(self, adapter_spec: AdapterSpec, tokenizer: Tokenizer, context_window: int) -> None:
        super().__init__(adapter_spec, tokenizer, context_window)
        if self.max_prompt_tokens() <= 0:
            raise AdaptationError(
                method=adapter_spec.method,
                problem=f"max_tokens={adapter_spec.max_tokens} leaves no room for a prompt in the model's "
                f"context window of {context_window} tokens",
            )

    def max_prompt_tokens(self) -> int:
        """Tokens a prompt may use: the context window minus the tokens the request may generate."""
        return self.context_window - self.adapter_spec.max_tokens

    def adapt(self, instances: list[Instance]) -> list[RequestState]:
        """Request states for every evaluation instance, for each train trial in turn."""
        spec = self.adapter_spec
        train = [instance for instance in instances if instance.split == TRAIN_SPLIT]
        evaluation = [instance for instance in instances if instance.split != TRAIN_SPLIT]
        wanted = spec.max_train_instances if self.uses_examples else 0
        if len(train) < wanted:
            logger.warning("only %d train instances, wanted %d in-context examples", len(train), wanted)
        states: list[RequestState] = []
        for trial in range(spec.num_train_trials):
            examples = sample_examples(train, wanted, seed=trial, sample=spec.sample_train)
            for instance in evaluation:
                states.extend(self.generate_requests(instance, trial, examples))
        logger.info("%s: %d eval instances, %d request states", spec.method, len(evaluation), len(states))
        return states

    @abstractmethod
    def generate_requests(
        self, eval_instance: Instance, train_trial_index: int, examples: list[Instance]
    ) -> list[RequestState]:
        """The request states of one evaluation instance in one train trial."""

    def choices_block(self, instance: Instance) -> str:
        """Text between an instance's input suffix and its output prefix (the choices, for joint)."""
        return ""

    def example_output(self, instance: Instance) -> str:
        """The answer an in-context example shows after the output prefix."""
        return correct_output(instance)

    def example_block(self, instance: Instance) -> str:
        """One in-context example: input, choices, output prefix, its answer, output suffix."""
        spec = self.adapter_spec
        return (
            spec.input_prefix
            + instance.input
            + spec.input_suffix
            + self.choices_block(instance)
            + spec.output_prefix
            + self.example_output(instance)
            + spec.output_suffix
        )

    def open_output_prefix(self) -> str:
        """The output prefix that ends a prompt the model continues.

        Trailing spaces are removed (HELM's reason: BPE tokenizers fold the space into the answer's first
        token, " Paris"); a trailing newline is kept, unlike HELM's full rstrip, since with a prefix such as
        "Answer:\\n" the model would otherwise start with the newline that is usually a stop sequence.
        """
        return self.adapter_spec.output_prefix.rstrip(" \t")

    def build_prompt(self, examples: list[Instance], eval_instance: Instance, eval_suffix: str) -> Prompt:
        """The prompt in parts; `eval_suffix` is everything after the evaluation input."""
        spec = self.adapter_spec
        return Prompt(
            global_prefix=spec.global_prefix,
            instructions=spec.instructions,
            instance_prefix=spec.instance_prefix,
            examples=tuple(self.example_block(example) for example in examples),
            eval_prefix=spec.input_prefix,
            eval_input=eval_instance.input,
            eval_suffix=eval_suffix,
        )

    def fitted_eval_prompt(self, examples: list[Instance], eval_instance: Instance) -> FittedPrompt:
        """The fitted prompt the model continues with its answer: the examples, then the evaluation instance
        framed as they are (input, choices) up to the open output prefix."""
        suffix = self.adapter_spec.input_suffix + self.choices_block(eval_instance) + self.open_output_prefix()
        return self.fit(self.build_prompt(examples, eval_instance, suffix))

    def fit(self, prompt: Prompt) -> FittedPrompt:
        """The prompt fitted into `max_prompt_tokens()` (examples dropped first, then the input cut)."""
        return fit_prompt(prompt, self.tokenizer, self.max_prompt_tokens())

    def sampled_state(
        self, eval_instance: Instance, train_trial_index: int, fitted: FittedPrompt, **request_fields: Any
    ) -> RequestState:
        """The request state of a prompt answered with the spec's decoding parameters (model, temperature,
        outputs, max tokens, stops, salt); `request_fields` adds fields such as top_k_per_token."""
        spec = self.adapter_spec
        request = Request(
            model=spec.model,
            prompt=fitted.text,
            temperature=spec.temperature,
            num_completions=spec.num_outputs,
            max_tokens=spec.max_tokens,
            stop_sequences=spec.stop_sequences,
            random=spec.random,
            **request_fields,
        )
        return RequestState(
            instance=eval_instance,
            train_trial_index=train_trial_index,
            request=request,
            num_train_instances=fitted.num_train_instances,
            prompt_truncated=fitted.truncated,
        )
