"""Token-overlap text metrics (`fn(gold, pred) -> [0, 1]`): HELM's F1, ROUGE-L and BLEU, and SQuAD's F1.

The metrics with HELM's names call the libraries HELM 0.5.16 calls, the way it calls them
(helm/benchmark/metrics/evaluate_reference_metrics.py), so they give HELM's numbers on the same strings:
nltk's `f_measure` on token sets, rouge-score's ROUGE-L with the Porter stemmer, nltk's `sentence_bleu` over
nltk's `word_tokenize`. tests/bench/metrics/test_helm_parity.py holds them to 1e-9 on a table of cases.
`squad_f1` is Mercury's own (SQuAD's multiset F1) and carries its own name.
"""

from __future__ import annotations

import functools
import warnings
from collections import Counter
from typing import Any

from bench.metrics._text_normalize import normalize_text
from bench.metrics._word_tokenize import word_tokenize


def f1_score(gold: str, pred: str) -> float:
    """HELM's F1: nltk's `f_measure` of the *sets* of normalized tokens; 0 when either side has no token.

    A repeated token counts once ("dog dog dog dog" vs "dog" is 1), and a gold and a prediction that both
    normalize to nothing ("The" vs "a.") score 0, unlike SQuAD's script (see `squad_f1`).
    """
    from nltk.metrics.scores import f_measure

    score = f_measure(set(normalize_text(gold).split()), set(normalize_text(pred).split()))
    return 0.0 if score is None else float(score)


def squad_f1(gold: str, pred: str) -> float:
    """SQuAD's token F1 (Mercury's own, not HELM's `f1_score`): multiset overlap of the normalized tokens.

    Repeated tokens count as often as they occur ("cat" vs "cat cat" is 2/3, where HELM's set F1 gives 1).
    An empty prediction scores 0; a gold and a prediction that both normalize to nothing ("The" vs "a.")
    score 1, as in the SQuAD script.
    """
    if not pred.strip():
        return 0.0
    gold_tokens = normalize_text(gold).split()
    pred_tokens = normalize_text(pred).split()
    if not gold_tokens or not pred_tokens:
        return float(gold_tokens == pred_tokens)
    same = sum((Counter(gold_tokens) & Counter(pred_tokens)).values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


@functools.cache
def _rouge_l_scorer() -> Any:
    """HELM's scorer: `RougeScorer(["rougeL"], use_stemmer=True)` (built once; it holds the Porter stemmer)."""
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(gold: str, pred: str) -> float:
    """rouge-score's ROUGE-L F-measure with the Porter stemmer, as HELM calls it ("studies" vs "studying" is 1).

    rouge-score lowercases, keeps runs of ASCII letters and digits (other characters separate tokens and
    non-ASCII letters are dropped) and stems tokens longer than three letters.
    """
    return float(_rouge_l_scorer().score(gold, pred)["rougeL"].fmeasure)


def _sentence_bleu(gold: str, pred: str, weights: tuple[float, float, float, float]) -> float:
    """nltk's `sentence_bleu([word_tokenize(gold)], word_tokenize(pred), weights)`, no smoothing (HELM's call).

    nltk warns when a prediction has no n-gram of some order in common with the gold; the score (0 then) is
    the same with or without the warning, so it is silenced here rather than printed once per instance.
    """
    from nltk.translate.bleu_score import sentence_bleu

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return float(sentence_bleu([word_tokenize(gold)], word_tokenize(pred), weights=weights))


def bleu_1(gold: str, pred: str) -> float:
    """HELM's BLEU-1: nltk sentence BLEU with weights (1, 0, 0, 0) ("don't" vs "do not" is 0.5: do, n't / do, not)."""
    return _sentence_bleu(gold, pred, (1, 0, 0, 0))


def bleu_4(gold: str, pred: str) -> float:
    """HELM's BLEU-4: nltk sentence BLEU with all weight on 4-grams, weights (0, 0, 0, 1)."""
    return _sentence_bleu(gold, pred, (0, 0, 0, 1))
