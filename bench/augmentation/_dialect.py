"""`dialect`: Standard American English rewritten toward African American English with a small fixed lexicon.

The lexicon holds spellings and forms documented as common in written AAE (g-dropping "goin", "bout",
"ain't" for negated be, "y'all", "finna"); it is deliberately small and conservative. It changes surface
form, not meaning, so a model that answers the SAE question should answer the AAE one identically; a gap in
results is a fairness gap. References are rewritten too, as for every fairness perturbation.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from bench.augmentation._perturbation import Perturbation, check_choice, check_probability, perturbation
from bench.augmentation._text import match_case, normalize_phrase, phrase_pattern

SAE_TO_AAE: dict[str, str] = {
    "about": "bout",
    "because": "cuz",
    "brother": "brotha",
    "sister": "sista",
    "nothing": "nothin",
    "something": "somethin",
    "anything": "anythin",
    "everything": "everythin",
    "going": "goin",
    "doing": "doin",
    "talking": "talkin",
    "saying": "sayin",
    "trying": "tryin",
    "getting": "gettin",
    "looking": "lookin",
    "coming": "comin",
    "working": "workin",
    "thinking": "thinkin",
    "with": "wit",
    "probably": "prolly",
    "isn't": "ain't",
    "aren't": "ain't",
    "am not": "ain't",
    "going to": "gonna",
    "about to": "finna",
    "want to": "wanna",
    "got to": "gotta",
    "you all": "y'all",
    "them": "dem",
}
"""Lower-case SAE word or phrase -> its AAE counterpart; longer phrases win ("going to" before "going")."""

DIALECTS = {("SAE", "AAE"): SAE_TO_AAE}
"""(source, target) -> lexicon."""

_PATTERNS = {pair: phrase_pattern(lexicon) for pair, lexicon in DIALECTS.items()}


@perturbation("dialect")
@dataclass(frozen=True)
class DialectPerturbation(Perturbation):
    """Each lexicon entry found in the text is replaced, with probability `prob`, keeping its case:
    "I am not going to talk about it" -> "I ain't gonna talk bout it".
    """

    prob: float = 1.0
    source: str = "SAE"
    target: str = "AAE"

    fairness = True
    perturbs_references = True

    def __post_init__(self) -> None:
        check_probability(self.name, "prob", self.prob)
        check_choice(self.name, "source", self.source, tuple(sorted({s for s, _ in DIALECTS})))
        targets = tuple(t for s, t in DIALECTS if s == self.source)
        check_choice(self.name, "target", self.target, targets)

    def perturb(self, text: str, rng: random.Random) -> str:
        pair = (self.source, self.target)
        return _PATTERNS[pair].sub(lambda match: self._replace(match, DIALECTS[pair], rng), text)

    def _replace(self, match: re.Match[str], lexicon: dict[str, str], rng: random.Random) -> str:
        found = match.group(0)
        if rng.random() >= self.prob:
            return found
        return match_case(found, lexicon[normalize_phrase(found)])
