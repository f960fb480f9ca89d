"""`DataAugmenterSpec`: which perturbations a run applies, and to which instances."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from bench._object_spec import PerturbationSpec

PerturbationStep = PerturbationSpec | tuple[PerturbationSpec, ...]


class DataAugmenterSpec(BaseModel):
    """Perturbations to apply and the switches that decide where they apply.

    Each entry of `perturbation_specs` is one perturbation, or a chain (a list) of perturbations applied in
    order to the same instance; each entry yields its own perturbed copy of an instance.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    perturbation_specs: tuple[PerturbationStep, ...] = Field(default=(), description="perturbations or chains")
    should_augment_train_instances: bool = Field(default=False, description="perturb in-context examples")
    should_include_original_train: bool = Field(default=False, description="keep unperturbed train copies")
    should_skip_unchanged_train: bool = Field(default=False, description="drop train copies left unchanged")
    should_augment_eval_instances: bool = Field(default=False, description="perturb evaluation instances")
    should_include_original_eval: bool = Field(default=False, description="keep unperturbed eval copies")
    should_skip_unchanged_eval: bool = Field(default=False, description="drop eval copies left unchanged")
    seeds_per_instance: int = Field(default=1, ge=1, description="perturbed copies per instance and entry")
