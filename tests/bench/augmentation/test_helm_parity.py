"""HELM-named perturbations and the canonical preset give HELM 0.5.16's text for the same instance ids.

The expected texts were produced by HELM's own classes (tests/fixtures/augmentation/record_helm_texts.py, run
with HELM's source) on 40 inputs (punctuation, case, unicode, empty text, names, pronouns, misspellings, spaces,
newlines), ids and references, for copies 0 (HELM's seed None), 1 and 2; dialect and person names read the
fixtures in HELM's upstream formats.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import Instance, PerturbationSpec, Reference
from bench.augmentation import augment_instances, create_perturbation, get_data_augmenter_spec
from tests.bench.augmentation.helm_data import FIXTURES, place_helm_data

RECORDED: dict[str, Any] = json.loads((FIXTURES / "helm_texts.json").read_text(encoding="utf-8"))

INSTANCES = [
    Instance(
        input=item["input"],
        references=tuple(
            Reference(output=text, tags=("correct",) if correct else ())
            for text, correct in zip(item["references"], item["correct"], strict=True)
        ),
        split="test",
        id=item["id"],
    )
    for item in RECORDED["instances"]
]


def _case_id(case: dict[str, Any]) -> str:
    return f"{case['name']}-{json.dumps(case['args'], sort_keys=True)}-copy{case['seed']}"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return place_helm_data(tmp_path_factory.mktemp("perturbations"))


def texts(instance: Instance) -> dict[str, Any]:
    return {"input": instance.input, "references": [r.output for r in instance.references]}


def test_the_recording_covers_every_helm_named_perturbation() -> None:
    names = {case["name"] for case in RECORDED["cases"]}
    assert names == {
        "lowercase", "contraction", "expansion", "extra_space", "space", "mild_mix", "typos", "misspellings",
        "filler_words", "gender", "dialect", "person_name",
    }  # fmt: skip
    assert len(INSTANCES) == 40 and len({i.id for i in INSTANCES}) == 39  # two share "id10" on purpose


@pytest.mark.parametrize("case", RECORDED["cases"], ids=_case_id)
def test_perturbation_gives_helms_text(case: dict[str, Any], data_dir: Path) -> None:
    perturbation = create_perturbation(PerturbationSpec(name=case["name"], args=case["args"]))
    perturbation.prepare(data_dir)
    got = [texts(perturbation.apply(instance, seed=case["seed"])) for instance in INSTANCES]
    for instance, mine, helms in zip(INSTANCES, got, case["outputs"], strict=True):
        assert mine == helms, f"instance {instance.id!r}: {instance.input!r}"


def test_canonical_preset_gives_helms_instances(data_dir: Path) -> None:
    """Originals first, copies in HELM's order (mild_mix, dialect, gender, person_name), unchanged inputs skipped."""
    augmented = augment_instances(INSTANCES, get_data_augmenter_spec("canonical"), data_dir)
    got = [{"id": i.id, "perturbation": i.perturbation.name if i.perturbation else None, **texts(i)} for i in augmented]
    assert got == RECORDED["canonical"]


def test_some_random_perturbation_changed_something() -> None:
    """The recording is not trivial: random perturbations changed most inputs, and copies differ from each other."""
    typos = [c for c in RECORDED["cases"] if c["name"] == "typos" and c["args"] == {"prob": 0.5}]
    changed = [o["input"] != i.input for o, i in zip(typos[0]["outputs"], INSTANCES, strict=True)]
    assert sum(changed) >= 35
    assert typos[0]["outputs"] != typos[1]["outputs"]
