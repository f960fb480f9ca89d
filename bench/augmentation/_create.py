"""`create_perturbation`: a perturbation (or chain) built from its spec through the registry."""

from __future__ import annotations

import inspect

from bench._object_spec import PerturbationSpec
from bench.augmentation._chain import PerturbationChain
from bench.augmentation._data_augmenter_spec import PerturbationStep
from bench.augmentation._perturbation import PERTURBATIONS, Perturbation


def create_perturbation(spec: PerturbationStep) -> Perturbation:
    """The perturbation named by `spec`, or a `PerturbationChain` for a tuple of specs.

    Raises:
        LookupError: for an unknown perturbation name, with the nearest known names.
        ValueError: for an argument the perturbation does not take or a bad value, naming both.
    """
    if isinstance(spec, tuple):
        return PerturbationChain([_create_one(part) for part in spec])
    return _create_one(spec)


def _create_one(spec: PerturbationSpec) -> Perturbation:
    cls = PERTURBATIONS.get(spec.name)
    accepted = [
        p.name
        for p in inspect.signature(cls).parameters.values()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    for arg in spec.args:
        if arg not in accepted:
            takes = ", ".join(repr(a) for a in accepted) or "no arguments"
            raise ValueError(f"perturbation {spec.name!r} has no argument {arg!r} (it takes {takes})")
    return cls(**spec.args)
