"""person_name: HELM's name list and algorithm; names kept consistent across references and input."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bench import Instance, PerturbationSpec, Reference, ScenarioDataError
from bench.augmentation import create_perturbation
from bench.augmentation._person_name import NAMES_URL, load_names
from bench.augmentation._perturbation import Perturbation
from tests.bench.augmentation.helm_data import NAMES_FIXTURE, place_helm_data

BLACK_MALE = {"alonzo", "jamel", "lerone", "theo", "darnell", "lamar"}
BLACK_FEMALE = {"aiesha", "lashelle", "nichelle", "ebony", "latisha"}
HISPANIC = {"garcia", "rodriguez", "hernandez", "lopez"}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return place_helm_data(tmp_path)


def person_name(data_dir: Path, **args: object) -> Perturbation:
    built = create_perturbation(PerturbationSpec(name="person_name", args=args))
    built.prepare(data_dir)
    return built


def test_the_list_parses_as_helm_parses_it() -> None:
    first = load_names(NAMES_FIXTURE, "first_name")
    assert first["race"]["black_american"][:2] == ["alonzo", "jamel"]  # file order
    assert "taylor" in first["race"]["white_american"] and "taylor" not in first["gender"]["female"]
    assert load_names(NAMES_FIXTURE, "last_name")["race"]["hispanic"] == ["garcia", "rodriguez", "hernandez", "lopez"]


def test_names_become_black_american_names_of_the_same_gender(data_dir: Path) -> None:
    out = person_name(data_dir).perturb("Adam met Amanda, and ADAM thanked amanda.", random.Random(0))
    words = out.replace(",", "").replace(".", "").split()
    adam, amanda = words[0], words[2]
    assert adam.lower() in BLACK_MALE and amanda.lower() in BLACK_FEMALE
    assert adam == adam.capitalize() and words[4] == adam.upper() and words[6] == amanda.lower()  # same name, case kept


def test_a_name_is_the_same_in_references_and_input(data_dir: Path) -> None:
    instance = Instance(
        input="Who did Josh call?", references=(Reference(output="Josh called Heather", tags=("correct",)),), id="id5"
    )
    out = person_name(data_dir).apply(instance)
    josh = out.input.split()[2]
    assert josh.lower() in BLACK_MALE and out.references[0].output.startswith(f"{josh} called ")
    assert out.references[0].output.split()[-1].lower() in BLACK_FEMALE


def test_copies_share_the_names_as_in_helm(data_dir: Path) -> None:
    # HELM's person_name seeds with the instance id alone, whatever the copy.
    perturbation = person_name(data_dir, prob=0.5)
    instance = Instance(input="Adam, Chip, Harry, Josh, Roger, Frank and Paul", id="id8")
    assert perturbation.apply(instance, seed=0) == perturbation.apply(instance, seed=2)


def test_without_gender_or_for_an_unknown_gender_any_target_name(data_dir: Path) -> None:
    out = person_name(data_dir).perturb("Hello Taylor.", random.Random(1)).split()[1].rstrip(".")
    assert out.lower() in BLACK_MALE | BLACK_FEMALE
    loose = person_name(data_dir, preserve_gender=False)
    assert {loose.perturb("Amanda", random.Random(i)).lower() for i in range(40)} & BLACK_MALE


def test_last_names(data_dir: Path) -> None:
    last = person_name(
        data_dir,
        source_class={"race": "white"},
        target_class={"race": "hispanic"},
        person_name_type="last_name",
        preserve_gender=False,
    )
    out = last.perturb("Mr. Smith met Mrs. Wang.", random.Random(0))
    assert out.split()[1].lower() in HISPANIC and out.endswith("Mrs. Wang.")


def test_probability_zero_changes_nothing(data_dir: Path) -> None:
    assert person_name(data_dir, prob=0.0).perturb("Adam and Amanda", random.Random(0)) == "Adam and Amanda"


def test_offline_error_names_helms_url_and_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Not the network: a refused loopback connection stands for an offline machine.
    from bench.augmentation import _person_name

    monkeypatch.setattr(_person_name, "NAMES_URL", "http://127.0.0.1:9/person_names.txt")
    with pytest.raises(ScenarioDataError, match="by hand") as error:
        create_perturbation(PerturbationSpec(name="person_name")).prepare(tmp_path)
    assert "http://127.0.0.1:9/person_names.txt" in str(error.value)
    assert str(tmp_path / "person_name" / "data" / "person_names.txt") in str(error.value)
    assert NAMES_URL.startswith("https://storage.googleapis.com/crfm-helm-public/source_datasets/augmentations/")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"source_class": "white"}, r"argument 'source_class' must be a non-empty object of category -> value"),
        ({"person_name_type": "nickname"}, r"argument 'person_name_type' must be one of 'first_name', 'last_name'"),
        ({"person_name_type": "last_name"}, r"argument 'preserve_gender' must be false for last names"),
        ({"prob": "1"}, r"argument 'prob' must be a number in \[0, 1\]"),
    ],
)
def test_bad_arguments_are_refused(args: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_perturbation(PerturbationSpec(name="person_name", args=args))


def test_an_unknown_class_names_the_known_ones(data_dir: Path) -> None:
    with pytest.raises(
        ValueError, match=r"argument 'target_class' must be categories of the list .*race=black_american"
    ):
        person_name(data_dir, target_class={"race": "martian"})


def test_equal_specs_build_equal_hashable_perturbations() -> None:
    one, two = (create_perturbation(PerturbationSpec(name="person_name")) for _ in range(2))
    assert one == two and hash(one) == hash(two)
    assert one.args["source_class"] == {"race": "white_american"}
