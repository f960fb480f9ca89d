"""Run entries: `name:key=value,key=value` parsed and expanded into RunSpecs.

The name picks a registered run-spec function; its keyword arguments are checked against the function's
signature (names and types) before anything runs. Reserved keys do not reach the function: they expand or
adjust the RunSpec it returns.

    model               a model, or a group of models ('all', 'offline', ...); one RunSpec per model
    max_eval_instances  size of the fixed-seed evaluation subset
    num_train_trials    draws of in-context examples
    max_train_instances in-context examples per prompt
    num_outputs         completions per request
    data_augmentation   a named augmentation preset ('robustness', 'fairness', 'typos', ...)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, get_type_hints

from pydantic import TypeAdapter, ValidationError

from bench._errors import RunEntryError
from bench._registry import unknown_name_message
from bench.augmentation import DataAugmenterSpec, get_data_augmentations
from bench.models import load_deployments, models_in_group
from bench.run_specs._functions import RUN_SPEC_FUNCTIONS, default_model_of
from bench.run_specs._run_spec import RunSpec

RESERVED_INT_KEYS = ("max_eval_instances", "num_train_trials", "max_train_instances", "num_outputs")
RESERVED_KEYS = ("model", "data_augmentation", *RESERVED_INT_KEYS)


@dataclass(frozen=True)
class RunEntry:
    """A parsed run entry: the scenario name, its scenario arguments and its reserved keys."""

    text: str
    name: str
    args: dict[str, str] = field(default_factory=dict)
    reserved: dict[str, str] = field(default_factory=dict)


def parse_run_entry(text: str) -> RunEntry:
    """Split `name:key=value,...` into name, scenario arguments and reserved keys.

    Raises:
        RunEntryError: for an empty name, a pair without '=', an empty key or a key given twice.
    """
    entry = text.strip()
    name, _, rest = entry.partition(":")
    name = name.strip()
    if not name:
        raise RunEntryError(text, "the scenario name before ':' is empty (expected name:key=value,...)")
    args: dict[str, str] = {}
    reserved: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = pair.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise RunEntryError(text, f"{pair!r} is not key=value")
        target = reserved if key in RESERVED_KEYS else args
        if key in target:
            raise RunEntryError(text, f"key {key!r} is given twice")
        target[key] = value
    return RunEntry(text=entry, name=name, args=args, reserved=reserved)


def _typed_arguments(entry: RunEntry, function: Callable[..., RunSpec]) -> dict[str, Any]:
    """Convert the entry's string arguments to the types the run-spec function declares."""
    signature = inspect.signature(function)
    hints = get_type_hints(function)
    params = {n: p for n, p in signature.parameters.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    typed: dict[str, Any] = {}
    for key, raw in entry.args.items():
        if key not in params:
            valid = ", ".join([*params, *RESERVED_KEYS])
            raise RunEntryError(entry.text, f"unknown argument {key!r} for {entry.name!r} (valid: {valid})")
        annotation = hints.get(key, str)
        try:
            typed[key] = TypeAdapter(annotation).validate_python(raw)
        except ValidationError as e:
            reason = e.errors()[0]["msg"]
            raise RunEntryError(entry.text, f"argument {key}={raw!r}: {reason}") from None
    return typed


def _reserved_int(entry: RunEntry, key: str) -> int | None:
    raw = entry.reserved.get(key)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise RunEntryError(entry.text, f"{key}={raw!r} must be a positive integer") from None
    if value < 1:
        raise RunEntryError(entry.text, f"{key}={raw!r} must be a positive integer")
    return value


def _models(entry: RunEntry, default_model: str | None) -> list[str]:
    """The models an entry names: a model, a group, the -m/--model default, or the scenario's default model."""
    value = entry.reserved.get("model") or default_model or default_model_of(entry.name)
    deployments = load_deployments()
    if value in deployments:
        return [value]
    members = models_in_group(value)
    if members:
        return members
    groups = sorted({g for d in deployments.values() for g in d.groups} | {"all"})
    raise RunEntryError(entry.text, unknown_name_message("model or model group", value, [*deployments, *groups]))


def _run_name(entry: RunEntry, model: str, augmentation: str | None) -> str:
    """HELM's form: the entry's own arguments, sorted, then the model (with '_' for '/') and the augmentation's
    run-name part (HELM's: `data_augmentation=extra_space` names its run `data_augmentation=extra_space2`)."""
    pairs = [*sorted(entry.args.items()), ("model", model.replace("/", "_"))]
    if augmentation:
        pairs.append(("data_augmentation", augmentation))
    return f"{entry.name}:" + ",".join(f"{k}={v}" for k, v in pairs)


def expand_run_entry(
    text: str, *, default_model: str | None = None, default_max_eval_instances: int | None = None
) -> list[RunSpec]:
    """The RunSpecs a run entry stands for, one per model (and per run of its data augmentation preset).

    Args:
        text: the run entry, e.g. `lpm:difficulty=easy,model=all`.
        default_model: model (or group) for entries that name none (the `-m` flag); without it, the model
            the scenario registered as its default (`openai/davinci` unless it says otherwise).
        default_max_eval_instances: used when the entry has no max_eval_instances.

    Raises:
        RunEntryError: naming the entry, the problem and the valid choices.
    """
    entry = parse_run_entry(text)
    if entry.name not in RUN_SPEC_FUNCTIONS:
        raise RunEntryError(text, unknown_name_message("scenario", entry.name, RUN_SPEC_FUNCTIONS.names()))
    function = RUN_SPEC_FUNCTIONS.get(entry.name)
    try:
        base = function(**_typed_arguments(entry, function))
    except (ValueError, TypeError) as e:
        raise RunEntryError(text, str(e)) from None

    adapter_updates: dict[str, Any] = {}
    for key in RESERVED_INT_KEYS:
        value = _reserved_int(entry, key)
        if value is not None:
            adapter_updates[key] = value
    if "max_eval_instances" not in adapter_updates and default_max_eval_instances is not None:
        adapter_updates["max_eval_instances"] = default_max_eval_instances

    augmentation = entry.reserved.get("data_augmentation")
    # One run per augmentation run of the preset (HELM's misspelling_sweep makes four); None: no augmentation.
    augmentations: dict[str | None, DataAugmenterSpec | None] = {None: None}
    if augmentation:
        try:
            augmentations = {part: spec for part, spec in get_data_augmentations(augmentation).items()}
        except LookupError as e:
            raise RunEntryError(text, str(e).strip("'\"")) from None

    run_specs = []
    for model in _models(entry, default_model):
        adapter_spec = base.adapter_spec.model_copy(update={**adapter_updates, "model": model})
        adapter_spec = type(adapter_spec).model_validate(adapter_spec.model_dump())  # re-check the updates
        for run_part, augmenter_spec in augmentations.items():
            updates: dict[str, Any] = {"name": _run_name(entry, model, run_part), "adapter_spec": adapter_spec}
            if augmenter_spec is not None:
                updates["data_augmenter_spec"] = augmenter_spec
            run_specs.append(base.model_copy(update=updates))
    return run_specs


def expand_run_entries(
    entries: Iterable[str], *, default_model: str | None = None, default_max_eval_instances: int | None = None
) -> list[RunSpec]:
    """All RunSpecs of `entries`, without duplicates (same run name), checked before anything runs."""
    run_specs: dict[str, RunSpec] = {}
    for text in entries:
        for run_spec in expand_run_entry(
            text, default_model=default_model, default_max_eval_instances=default_max_eval_instances
        ):
            run_specs.setdefault(run_spec.name, run_spec)
    return list(run_specs.values())
