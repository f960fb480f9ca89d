"""misspellings and mild_mix: HELM's shipped table, case-sensitive whole words, HELM's order of steps."""

from __future__ import annotations

import hashlib
import random
from importlib import resources

from bench import Instance, PerturbationSpec, Reference
from bench.augmentation import create_perturbation
from bench.augmentation._misspellings import MISSPELLINGS_FILE, misspellings_table


def test_the_table_is_the_file_helm_ships() -> None:
    data = resources.files("bench.augmentation").joinpath("data", MISSPELLINGS_FILE).read_bytes()
    assert hashlib.sha256(data).hexdigest() == "2f8e118895e52426bacd0cd32dfd0c14708e845c910d129f2d03571fe9f75c8b"
    table, _ = misspellings_table()
    assert len(table) == 6523 and table["abandoned"] == ["abondoned", "abandonned"]


def test_prob_one_misspells_every_listed_word_in_its_case() -> None:
    misspell = create_perturbation(PerturbationSpec(name="misspellings", args={"prob": 1.0}))
    out = misspell.perturb("Abandoned; abandoned; ABANDONED.", random.Random(0))
    first, second, third = out.split("; ")
    table, _ = misspellings_table()
    assert first in table["Abandoned"]  # "Abandoned" has its own entry, capitalised
    assert second in table["abandoned"]
    assert third == "ABANDONED."  # matching is case-sensitive: no entry for the upper-case word


def test_prob_zero_and_unlisted_words_are_kept() -> None:
    misspell = create_perturbation(PerturbationSpec(name="misspellings", args={"prob": 0.0}))
    assert misspell.perturb("Already available.", random.Random(0)) == "Already available."
    every = create_perturbation(PerturbationSpec(name="misspellings", args={"prob": 1.0}))
    assert every.perturb("zzz qqq", random.Random(0)) == "zzz qqq"


def test_mild_mix_lowercases_contracts_misspells_and_respaces_input_only() -> None:
    mild_mix = create_perturbation(PerturbationSpec(name="mild_mix"))
    assert mild_mix.args == {} and mild_mix.robustness and not mild_mix.perturbs_references
    reference = Reference(output="It Is", tags=("correct",))
    out = mild_mix.apply(Instance(input="It Is True, I Am Sure", references=(reference,), id="id1"))
    assert " ".join(out.input.split()) == "it's true, i'm sure"  # no listed word here, so no misspelling
    assert out.references == (reference,)
