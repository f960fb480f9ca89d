"""filler_words: HELM's lists, defaults and loop; fillers inserted before words, nothing else changed."""

from __future__ import annotations

import random
import re

import pytest

from bench import Instance, PerturbationSpec
from bench.augmentation import create_perturbation
from bench.augmentation._filler_words import FILL_PHRASES, SPEAKER_PHRASES, UNCERTAIN_PHRASES

TEXT = "the cat sat on the mat"
ALL = (*SPEAKER_PHRASES, *UNCERTAIN_PHRASES, *FILL_PHRASES)


def with_optional_fillers(text: str, fillers: tuple[str, ...], required: bool) -> re.Pattern[str]:
    """Matches `text` with a filler (and a space) before any word, or before every word if `required`."""
    filler = "(?:" + "|".join(re.escape(f) for f in fillers) + ")"
    slot = f"{filler} " if required else f"(?:{filler} )?"
    return re.compile("^" + " ".join(slot + re.escape(w) for w in text.split(" ")) + "$")


def build(**args: object) -> object:
    return create_perturbation(PerturbationSpec(name="filler_words", args=args))


def test_defaults_are_helms() -> None:
    assert build().args == {  # type: ignore[attr-defined]
        "insert_prob": 0.333, "max_num_insert": None, "speaker_ph": True, "uncertain_ph": True, "fill_ph": True
    }  # fmt: skip
    assert len(SPEAKER_PHRASES) == 9 and len(UNCERTAIN_PHRASES) == 5 and len(FILL_PHRASES) == 9


def test_prob_one_puts_a_filler_before_every_word_from_the_selected_lists() -> None:
    perturbation = create_perturbation(
        PerturbationSpec(name="filler_words", args={"insert_prob": 1.0, "speaker_ph": False})
    )
    out = perturbation.perturb(TEXT, random.Random(3))
    assert with_optional_fillers(TEXT, (*UNCERTAIN_PHRASES, *FILL_PHRASES), required=True).match(out)


def test_max_num_insert_caps_the_insertions() -> None:
    perturbation = create_perturbation(
        PerturbationSpec(name="filler_words", args={"insert_prob": 1.0, "max_num_insert": 2})
    )
    out = perturbation.perturb(TEXT, random.Random(3))
    assert with_optional_fillers(TEXT, ALL, required=False).match(out)
    assert len(out.split(" ")) > len(TEXT.split(" ")) and out.endswith("sat on the mat")  # the first two only


def test_only_inserts_and_differs_per_id() -> None:
    perturbation = create_perturbation(PerturbationSpec(name="filler_words", args={"insert_prob": 0.5}))
    pattern = with_optional_fillers(TEXT, ALL, required=False)
    outputs = set()
    for i in range(10):
        out = perturbation.apply(Instance(input=TEXT, id=f"id{i}")).input
        assert pattern.match(out), out
        outputs.add(out)
    assert len(outputs) > 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"insert_prob": 2}, r"argument 'insert_prob' must be a number in \[0, 1\], got 2"),
        ({"max_num_insert": -1}, r"argument 'max_num_insert' must be null or an integer >= 0, got -1"),
        ({"fill_ph": "yes"}, r"argument 'fill_ph' must be true or false, got 'yes'"),
        ({"speaker_ph": False, "uncertain_ph": False, "fill_ph": False}, r"must be true for at least one list"),
    ],
)
def test_bad_arguments_are_refused(args: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build(**args)
