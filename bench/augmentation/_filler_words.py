"""`filler_words`: fillers and hedges ("uhm", "I think", "maybe") inserted between words, HELM's.

Lists, defaults and the loop are HELM 0.5.16's (after NL-Augmenter): before each piece between single spaces,
one draw decides (`<= insert_prob`) and a second picks the filler; at most `max_num_insert` insertions.
HELM's `filler` preset uses insert_prob 0.3 without the speaker phrases.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.augmentation._perturbation import Perturbation, bad_argument, check_probability, perturbation

SPEAKER_PHRASES: tuple[str, ...] = (
    "I think", "I believe", "I mean", "I guess", "that is", "I assume", "I feel", "In my opinion", "I would say",
)  # fmt: skip
"""Speaker opinion and mental state phrases (Kovatchev et al., 2021)."""

UNCERTAIN_PHRASES: tuple[str, ...] = ("maybe", "perhaps", "probably", "possibly", "most likely")
"""Phrases of uncertainty (Kovatchev et al., 2021)."""

FILL_PHRASES: tuple[str, ...] = ("uhm", "umm", "ahh", "err", "actually", "obviously", "naturally", "like", "you know")
"""Fillers that keep the meaning of a sentence (Laserna et al., 2014)."""


@perturbation("filler_words")
@dataclass(frozen=True)
class FillerWordsPerturbation(Perturbation):
    """Before each word, with probability `insert_prob`, inserts a random filler of the selected lists.

    Words are the pieces between single spaces, so removing the inserted fillers gives back the text exactly.
    """

    insert_prob: float = 0.333
    max_num_insert: int | None = None
    speaker_ph: bool = True
    uncertain_ph: bool = True
    fill_ph: bool = True

    robustness = True

    def __post_init__(self) -> None:
        check_probability(self.name, "insert_prob", self.insert_prob)
        limit = self.max_num_insert
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise bad_argument(self.name, "max_num_insert", "null or an integer >= 0", limit)
        for arg in ("speaker_ph", "uncertain_ph", "fill_ph"):
            if not isinstance(getattr(self, arg), bool):
                raise bad_argument(self.name, arg, "true or false", getattr(self, arg))
        if not self.fillers:
            raise bad_argument(self.name, "speaker_ph, uncertain_ph, fill_ph", "true for at least one list", False)

    @property
    def fillers(self) -> tuple[str, ...]:
        """The selected lists, in HELM's order (speaker, uncertain, fill); the order decides `rng.choice`."""
        return (
            (SPEAKER_PHRASES if self.speaker_ph else ())
            + (UNCERTAIN_PHRASES if self.uncertain_ph else ())
            + (FILL_PHRASES if self.fill_ph else ())
        )

    def perturb(self, text: str, rng: random.Random) -> str:
        fillers = self.fillers
        inserted = 0
        pieces: list[str] = []
        for word in text.split(" "):
            if (self.max_num_insert is None or inserted < self.max_num_insert) and rng.random() <= self.insert_prob:
                pieces.append(rng.choice(fillers))
                inserted += 1
            pieces.append(word)
        return " ".join(pieces)
