"""Instances of a scenario: an input, its references, and where it comes from."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CORRECT_TAG = "correct"

TRAIN_SPLIT = "train"
VALID_SPLIT = "valid"
TEST_SPLIT = "test"
EVAL_SPLITS = (VALID_SPLIT, TEST_SPLIT)
ALL_SPLITS = (TRAIN_SPLIT, VALID_SPLIT, TEST_SPLIT)


class Reference(BaseModel):
    """A possible output for an instance; correct when tagged "correct"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    output: str
    tags: tuple[str, ...] = ()

    @property
    def is_correct(self) -> bool:
        return CORRECT_TAG in self.tags


class PerturbationDescription(BaseModel):
    """Which perturbation (or chain of perturbations) produced an instance.

    Metrics are reported per perturbation, grouped by `name`; `robustness` and `fairness` say which view of
    the results the perturbation belongs to.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="e.g. 'typos' or, for a chain, 'lowercase+typos'")
    robustness: bool = False
    fairness: bool = False
    args: dict[str, Any] = Field(default_factory=dict, description="arguments of the perturbation(s)")

    def __hash__(self) -> int:
        return hash((self.name, self.robustness, self.fairness, repr(sorted(self.args.items()))))


class Instance(BaseModel):
    """One example of a scenario."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    input: str
    references: tuple[Reference, ...] = ()
    split: str = TEST_SPLIT
    sub_split: str | None = None
    id: str | None = Field(default=None, description="stable id, e.g. 'id12'; assigned by the runner if None")
    perturbation: PerturbationDescription | None = None

    @property
    def first_correct_reference(self) -> Reference | None:
        return next((r for r in self.references if r.is_correct), None)

    @property
    def all_correct_references(self) -> list[Reference]:
        return [r for r in self.references if r.is_correct]
