"""filler_words: fillers inserted before words, nothing else changed."""

from __future__ import annotations

import random
import re

from bench import Instance, PerturbationSpec
from bench.augmentation import create_perturbation
from bench.augmentation._filler_words import FILLERS

TEXT = "the cat sat on the mat"
_FILLER = "(?:" + "|".join(re.escape(f) for f in FILLERS) + ")"


def with_optional_fillers(text: str, required: bool) -> re.Pattern[str]:
    """Matches `text` with a filler (and a space) before any word, or before every word if `required`."""
    slot = f"{_FILLER} " if required else f"(?:{_FILLER} )?"
    return re.compile("^" + " ".join(slot + re.escape(w) for w in text.split(" ")) + "$")


def test_prob_zero_leaves_text_unchanged() -> None:
    perturbation = create_perturbation(PerturbationSpec(name="filler_words", args={"insert_prob": 0.0}))
    assert perturbation.perturb(TEXT, random.Random(3)) == TEXT


def test_prob_one_puts_a_filler_before_every_word() -> None:
    perturbation = create_perturbation(PerturbationSpec(name="filler_words", args={"insert_prob": 1.0}))
    out = perturbation.perturb(TEXT, random.Random(3))
    assert with_optional_fillers(TEXT, required=True).match(out)


def test_default_only_inserts_fillers() -> None:
    perturbation = create_perturbation(PerturbationSpec(name="filler_words", args={"insert_prob": 0.5}))
    pattern = with_optional_fillers(TEXT, required=False)
    outputs = set()
    for i in range(10):
        out = perturbation.apply(Instance(input=TEXT, id=f"id{i}")).input
        assert pattern.match(out), out
        outputs.add(out)
    assert len(outputs) > 1  # different ids, different insertions


def test_deterministic_per_instance() -> None:
    perturbation = create_perturbation(PerturbationSpec(name="filler_words", args={"insert_prob": 0.5}))
    instance = Instance(input=TEXT, id="id1")
    assert perturbation.apply(instance) == perturbation.apply(instance)
