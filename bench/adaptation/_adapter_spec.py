"""`AdapterSpec`: how instances become prompts (the adaptation method and its prompt format)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

ADAPT_GENERATION = "generation"
ADAPT_MULTIPLE_CHOICE_JOINT = "multiple_choice_joint"
ADAPT_MULTIPLE_CHOICE_SEPARATE_ORIGINAL = "multiple_choice_separate_original"
ADAPT_MULTIPLE_CHOICE_SEPARATE_CALIBRATED = "multiple_choice_separate_calibrated"
ADAPT_LANGUAGE_MODELING = "language_modeling"

AdaptationMethod = Literal[
    "generation",
    "multiple_choice_joint",
    "multiple_choice_separate_original",
    "multiple_choice_separate_calibrated",
    "language_modeling",
]


class AdapterSpec(BaseModel):
    """Everything that decides the prompts and the decoding parameters of a run."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: AdaptationMethod = Field(default="generation", description="adaptation method")
    global_prefix: str = Field(default="", description="text at the very start of every prompt")
    instructions: str = Field(default="", description="task instructions, followed by a newline")
    input_prefix: str = Field(default="Input: ", description="before each instance's input")
    input_suffix: str = Field(default="\n", description="after each instance's input")
    reference_prefix: str = Field(default="A. ", description="before the first choice (letter increments)")
    reference_suffix: str = Field(default="\n", description="after each choice")
    output_prefix: str = Field(default="Output: ", description="before each output")
    output_suffix: str = Field(default="\n", description="after each in-context example's output")
    instance_prefix: str = Field(default="\n", description="between in-context examples")
    max_train_instances: int = Field(default=5, ge=0, description="in-context examples per prompt")
    max_eval_instances: int | None = Field(default=None, ge=1, description="evaluation subset size")
    num_outputs: int = Field(default=1, ge=1, description="completions per request")
    num_train_trials: int = Field(default=1, ge=1, description="draws of in-context examples")
    sample_train: bool = Field(default=True, description="draw in-context examples at random (seeded)")
    model: str = Field(default="simple/model1", description="model that answers")
    temperature: float = Field(default=0.0, ge=0.0)
    max_tokens: int = Field(default=100, ge=0)
    stop_sequences: tuple[str, ...] = Field(default=("\n",))
    random: str | None = Field(default=None, description="request salt")
    output_mapping_pattern: str | None = Field(
        default=None,
        description="joint multiple choice: regex searched in the stripped answer before the letter lookup "
        "(its group 1 if it has one, else the whole match; no match names no choice), HELM's field; "
        r"e.g. '\(?([A-Z])\b' also reads '(B)' and 'B. Paris' as B",
    )

    @field_validator("output_mapping_pattern")
    @classmethod
    def _pattern_compiles(cls, pattern: str | None) -> str | None:
        """A pattern that is not a regular expression fails when the spec is built, not mid-run."""
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"output_mapping_pattern={pattern!r} must be a regular expression: {error}") from error
        return pattern
