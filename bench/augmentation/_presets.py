"""Named data augmentations that run entries select with `data_augmentation=NAME`.

HELM's presets (run_expander.py's PERTURBATION_SPECS_DICT, 0.5.16) keep HELM's names and contents, for every
perturbation Mercury has: `robustness` is one `mild_mix` copy; `fairness` is dialect (SAE to AAVE), gender
pronouns (male to female) and person names (white to black American first names, gender kept), each with
probability 1; `canonical` is both; `typo_easy`, `misspelling_sweep`, `gender_terms_hard`, ... as in HELM. A preset
maps run-name parts to specs, as HELM's does: `extra_space` makes one run named `data_augmentation=extra_space2`,
`misspelling_sweep` four. HELM's presets that need what Mercury lacks (contrast_sets, synonym, robustness_all,
the CLEVA, translation and style ones) are not registered.

Mercury's own: `all` (every registered perturbation) and one preset per perturbation under the perturbation's
name (`typos`, `gender`, ...) with its default args, unless a HELM preset has that name (`extra_space`, `space`).

Every preset perturbs evaluation instances only, keeps the originals and skips copies whose input is unchanged,
like HELM, so a single run yields both the plain metrics and the perturbed ones. Perturbation args are written
out in full, so a RunSpec shows every value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench._object_spec import PerturbationSpec
from bench._registry import Registry
from bench.augmentation._create import create_perturbation
from bench.augmentation._data_augmenter_spec import DataAugmenterSpec, PerturbationStep
from bench.augmentation._perturbation import PERTURBATIONS

DataAugmentations = dict[str, DataAugmenterSpec]
"""Run-name part (`data_augmentation=<part>`) -> the augmentation of that run."""

DataAugmentationFunction = Callable[[], DataAugmenterSpec | DataAugmentations]
"""A preset: one spec (one run, named after the preset) or several runs by name."""

DATA_AUGMENTATIONS: Registry[DataAugmentationFunction] = Registry("data augmentation")


def data_augmentation(name: str) -> Callable[[DataAugmentationFunction], DataAugmentationFunction]:
    """Register a zero-argument function returning a DataAugmenterSpec (or run name -> spec) under `name`."""
    return DATA_AUGMENTATIONS.register(name)


def get_data_augmentations(name: str) -> DataAugmentations:
    """The runs the preset `name` stands for: run-name part -> DataAugmenterSpec, in order.

    Raises:
        LookupError: for an unknown name, with the nearest known names.
    """
    result = DATA_AUGMENTATIONS.get(name)()
    return {name: result} if isinstance(result, DataAugmenterSpec) else dict(result)


def get_data_augmenter_spec(name: str) -> DataAugmenterSpec:
    """The DataAugmenterSpec of the preset `name`, a preset of one run.

    Raises:
        LookupError: for an unknown name, with the nearest known names.
        ValueError: if the preset makes several runs (use `get_data_augmentations`).
    """
    runs = get_data_augmentations(name)
    if len(runs) != 1:
        raise ValueError(f"data augmentation {name!r} makes {len(runs)} runs ({', '.join(runs)}), not one")
    return next(iter(runs.values()))


def eval_augmentation(*steps: PerturbationStep) -> DataAugmenterSpec:
    """HELM's spec for a preset: eval instances perturbed with `steps`, originals kept, unchanged copies skipped.

    The train switches are HELM's too (irrelevant while train instances are not augmented).
    """
    return DataAugmenterSpec(
        perturbation_specs=steps,
        should_augment_train_instances=False,
        should_include_original_train=True,
        should_skip_unchanged_train=True,
        should_augment_eval_instances=True,
        should_include_original_eval=True,
        should_skip_unchanged_eval=True,
    )


def step(name: str, **args: Any) -> PerturbationSpec:
    """The spec of perturbation `name` with `args` and every other argument's default written out."""
    spec = create_perturbation(PerturbationSpec(name=name, args=args)).to_spec()
    assert isinstance(spec, PerturbationSpec)
    return spec


def default_step(name: str, *chained: str) -> PerturbationStep:
    """The spec of perturbation `name` with its default args written out; with `chained` names, a chain."""
    if not chained:
        return step(name)
    return create_perturbation(tuple(PerturbationSpec(name=n) for n in (name, *chained))).to_spec()


def _runs(**runs: tuple[PerturbationStep, ...]) -> DataAugmentationFunction:
    """A preset of several runs (or one under another name), HELM-style: run-name part -> steps."""
    return lambda: {run: eval_augmentation(*steps) for run, steps in runs.items()}


def _person_name(prob: float, race: tuple[str, str], name_type: str, preserve_gender: bool) -> PerturbationSpec:
    return step(
        "person_name",
        prob=prob,
        source_class={"race": race[0]},
        target_class={"race": race[1]},
        person_name_type=name_type,
        preserve_gender=preserve_gender,
    )


def robustness_steps() -> tuple[PerturbationStep, ...]:
    """HELM's ROBUSTNESS_PERTURBATION_SPECS: one mild_mix."""
    return (step("mild_mix"),)


def fairness_steps() -> tuple[PerturbationStep, ...]:
    """HELM's FAIRNESS_PERTURBATION_SPECS, in its order."""
    return (
        step("dialect", prob=1.0, source_class="SAE", target_class="AAVE"),
        step("gender", mode="pronouns", prob=1.0, source_class="male", target_class="female"),
        _person_name(1.0, ("white_american", "black_american"), "first_name", True),
    )


def _helm_presets() -> dict[str, DataAugmentationFunction]:
    """HELM's presets Mercury can run, by HELM's name (its run-name parts kept)."""
    presets: dict[str, DataAugmentationFunction] = {
        "extra_space": _runs(extra_space2=(step("extra_space", num_spaces=2),)),
        "space": _runs(space3=(step("space", max_spaces=3),)),
        "lower": _runs(lower=(step("lowercase"),)),
        "contract": _runs(contract=(step("contraction"), step("expansion"))),
        "filler": _runs(**{"filler0.3": (step("filler_words", insert_prob=0.3, speaker_ph=False),)}),
        "misspelling_mild": _runs(**{"misspelling0.05": (step("misspellings", prob=0.05),)}),
        "misspelling_medium": _runs(**{"misspelling0.20": (step("misspellings", prob=0.20),)}),
        "misspelling_hard": _runs(**{"misspelling0.5": (step("misspellings", prob=0.5),)}),
        "misspelling_sweep": _runs(**{f"misspelling{p}": (step("misspellings", prob=p),) for p in (0, 0.05, 0.2, 0.5)}),
        "typo_easy": _runs(**{"typo0.1": (step("typos", prob=0.1),)}),
        "typo_medium": _runs(**{"typo0.3": (step("typos", prob=0.3),)}),
        "typo_hard": _runs(**{"typo0.5": (step("typos", prob=0.5),)}),
    }
    for level, prob in (("easy", 0.1), ("medium", 0.3), ("hard", 0.5), ("deterministic", 1.0)):
        # HELM's own run names: "dialect_easy_..." for easy only.
        prefix = "dialect_easy" if level == "easy" else "dialect"
        dialect = step("dialect", prob=prob, source_class="SAE", target_class="AAVE")
        presets[f"dialect_{level}"] = _runs(**{f"{prefix}_prob={prob}_source=SAE_target=AAVE": (dialect,)})
        for mode in ("terms", "pronouns"):
            gender = step("gender", mode=mode, prob=prob, source_class="male", target_class="female")
            presets[f"gender_{mode}_{level}"] = _runs(
                **{f"gender_{mode}_prob={prob}_source=male_target=female": (gender,)}
            )
    white_black = ("white_american", "black_american")
    for name, prob, preserve in (
        ("person_name_first_hard_preserve_gender", 0.5, True),
        ("person_name_first_hard_dont_preserve_gender", 0.5, False),
        ("person_name_first_deterministic", 1.0, True),
    ):
        run = f"person_name_first_prob={prob}_source=white_target=black_preserve_gender={preserve}"
        presets[name] = _runs(**{run: (_person_name(prob, white_black, "first_name", preserve),)})
    for name, prob in (("person_name_last_deterministic", 1.0), ("person_name_last_hard", 0.5)):
        last = _person_name(prob, ("white", "hispanic"), "last_name", False)
        presets[name] = _runs(**{f"person_name_last_prob={prob}_source=white_target=hispanic": (last,)})
    presets["robustness"] = lambda: eval_augmentation(*robustness_steps())
    presets["fairness"] = lambda: eval_augmentation(*fairness_steps())
    presets["canonical"] = lambda: eval_augmentation(*robustness_steps(), *fairness_steps())
    return presets


def _all_perturbations() -> DataAugmenterSpec:
    """Every registered perturbation (at call time), each with its default args, in name order."""
    return eval_augmentation(*(default_step(name) for name in PERTURBATIONS.names()))


def register_perturbation_presets() -> None:
    """Register HELM's presets, `all`, then one preset per registered perturbation whose name is still free."""
    for name, preset in _helm_presets().items():
        if name not in DATA_AUGMENTATIONS:
            preset.__doc__ = f"HELM's {name!r} preset."
            DATA_AUGMENTATIONS.add(name, preset)
    if "all" not in DATA_AUGMENTATIONS:
        DATA_AUGMENTATIONS.add("all", _all_perturbations)
    for name in PERTURBATIONS.names():
        if name not in DATA_AUGMENTATIONS:
            DATA_AUGMENTATIONS.add(name, _single(name))


def _single(name: str) -> DataAugmentationFunction:
    def preset() -> DataAugmenterSpec:
        return eval_augmentation(default_step(name))

    preset.__doc__ = f"The {name!r} perturbation with its default args."
    return preset
