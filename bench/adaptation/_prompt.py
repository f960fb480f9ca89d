"""Prompts kept in parts, and fitting them into a context window.

A prompt is built from parts (global prefix, instructions, in-context example blocks, the evaluation
instance split around its input) rather than as one string, so that fitting can drop examples and cut the
evaluation input while the text after the input (choices, output prefix, a scored reference) stays whole.
HELM instead cuts the whole prompt from the right, which removes the output prefix the model needs.

Layout (HELM's, with its `format_instructions` newline):

    global_prefix + instance_prefix.join([instructions + "\\n"] + example_blocks + [eval_block])

where the instructions block is left out when the instructions are empty, and
eval_block = eval_prefix + eval_input + eval_suffix.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from bench.tokenizers._tokenizer import Tokenizer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prompt:
    """A prompt in parts: the fitting code replaces `examples` and `eval_input`, never the rest."""

    global_prefix: str
    instructions: str
    instance_prefix: str
    examples: tuple[str, ...]
    eval_prefix: str
    eval_input: str
    eval_suffix: str

    @property
    def text(self) -> str:
        """The whole prompt text."""
        blocks = [self.instructions + "\n"] if self.instructions else []
        blocks.extend(self.examples)
        blocks.append(self.eval_prefix + self.eval_input + self.eval_suffix)
        return self.global_prefix + self.instance_prefix.join(blocks)


@dataclass(frozen=True)
class FittedPrompt:
    """The text sent to the model, with what fitting had to give up to get there."""

    text: str
    num_train_instances: int
    truncated: bool


def fit_prompt(prompt: Prompt, tokenizer: Tokenizer, max_prompt_tokens: int) -> FittedPrompt:
    """The prompt made to fit in `max_prompt_tokens` tokens of `tokenizer`.

    Steps, each taken only if the previous one is not enough:
    1. drop in-context examples one at a time from the end (MMLU's and HELM's rule);
    2. with no examples left, cut the end of the evaluation input (keep its start), keeping everything
       after the input (choices, output prefix, scored reference) intact;
    3. if even an empty input does not fit, cut the whole prompt from the right (HELM's last resort).
    Steps 2 and 3 mark the prompt truncated.

    Args:
        prompt: the prompt in parts.
        tokenizer: counts tokens (the model's tokenizer).
        max_prompt_tokens: tokens the prompt may use (context window minus the tokens to generate).

    Returns:
        The fitted text, how many examples it kept and whether the input (or more) was cut.
    """
    for kept in range(len(prompt.examples), -1, -1):
        candidate = replace(prompt, examples=prompt.examples[:kept])
        if tokenizer.fits(candidate.text, max_prompt_tokens):
            if kept < len(prompt.examples):
                logger.debug("dropped %d in-context examples to fit", len(prompt.examples) - kept)
            return FittedPrompt(text=candidate.text, num_train_instances=kept, truncated=False)
    bare = replace(prompt, examples=())
    return _truncate_input(bare, tokenizer, max_prompt_tokens)


def _truncate_input(prompt: Prompt, tokenizer: Tokenizer, max_prompt_tokens: int) -> FittedPrompt:
    """Keep the longest start of the evaluation input that fits (the prompt has no examples)."""
    overhead = tokenizer.count_tokens(replace(prompt, eval_input="").text)
    if overhead > max_prompt_tokens:
        logger.warning("prompt does not fit even without its input: cutting it from the right")
        return FittedPrompt(tokenizer.truncate_from_right(prompt.text, max_prompt_tokens), 0, truncated=True)
    ids = tokenizer.encode(prompt.eval_input)
    keep = min(len(ids), max_prompt_tokens - overhead)
    while True:
        # Tokens may merge differently at the input's edges, so check the whole text and shrink by the excess.
        candidate = replace(prompt, eval_input=tokenizer.decode(ids[:keep])).text
        excess = tokenizer.count_tokens(candidate) - max_prompt_tokens
        if excess <= 0:  # keep == 0 always ends here, since overhead fits
            return FittedPrompt(text=candidate, num_train_instances=0, truncated=True)
        keep = max(0, keep - excess)


def count_leading_tokens(tokenizer: Tokenizer, text: str, prefix_length: int) -> int:
    """How many leading tokens of `tokenizer.encode(text)` lie wholly within `text[:prefix_length]`.

    Counting the prefix on its own would be wrong when a token spans the boundary: with "Output: Paris",
    BPE tokenizers (and tests.fakes.WordTokenizer) produce " Paris", so the prefix "Output: " alone has one
    token more ("Output:", " ") than the full text has before the reference. The token that spans the
    boundary counts as the continuation's, so the continuation's tokens decode to the reference preceded by
    whatever whitespace of the prefix merged into it (" Paris").

    Args:
        tokenizer: the model's tokenizer.
        text: the whole prompt.
        prefix_length: characters of `text` that condition (the rest is scored).

    Returns:
        The number of conditioning tokens, between 0 and len(tokenizer.encode(text)).
    """
    ids = tokenizer.encode(text)
    prefix = text[:prefix_length]
    count = min(len(ids), tokenizer.count_tokens(prefix))
    while count > 0 and not prefix.startswith(tokenizer.decode(ids[:count])):
        count -= 1
    while count < len(ids) and prefix.startswith(tokenizer.decode(ids[: count + 1])):
        count += 1
    return count
