"""Token-overlap text metrics: SQuAD F1, ROUGE-L and sentence BLEU (`fn(gold, pred) -> [0, 1]`).

Implemented here rather than with nltk/rouge_score/sacrebleu so that bench/ has no heavy dependency;
where these differ from HELM's library calls, the docstring says how.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from bench.metrics._text_normalize import normalize_text

_ROUGE_TOKEN = re.compile(r"[^\W_]+")
_BLEU_TOKEN = re.compile(r"\w+|[^\w\s]")


def f1_score(gold: str, pred: str) -> float:
    """SQuAD's token F1: multiset overlap of the normalized whitespace tokens.

    HELM uses nltk's `f_measure` on token *sets*; the two differ only when a token repeats. An empty
    prediction scores 0; a gold and a prediction that both normalize to nothing (e.g. "The" vs "a.")
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


def rouge_tokenize(text: str) -> list[str]:
    """rouge_score's default tokenization (lowercase, runs of letters and digits), without stemming.

    HELM builds its scorer with `use_stemmer=True` (Porter); without a stemmer "cats" and "cat" differ here.
    Unlike rouge_score, non-ASCII letters are kept rather than dropped.
    """
    return _ROUGE_TOKEN.findall(text.lower())


def _lcs_length(a: list[str], b: list[str]) -> int:
    """Length of the longest common subsequence (dynamic programming, one row at a time)."""
    previous = [0] * (len(b) + 1)
    for token_a in a:
        current = [0]
        for j, token_b in enumerate(b):
            current.append(previous[j] + 1 if token_a == token_b else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def rouge_l(gold: str, pred: str) -> float:
    """ROUGE-L F-measure (beta = 1): LCS precision over the prediction, recall over the gold."""
    gold_tokens = rouge_tokenize(gold)
    pred_tokens = rouge_tokenize(pred)
    if not gold_tokens or not pred_tokens:
        return 0.0
    lcs = _lcs_length(gold_tokens, pred_tokens)
    if lcs == 0:
        return 0.0
    precision = lcs / len(pred_tokens)
    recall = lcs / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def bleu_tokenize(text: str) -> list[str]:
    """Words and single punctuation marks, case kept: close to nltk's `word_tokenize` for plain text.

    nltk also splits contractions ("don't" -> "do", "n't"); here that gives "don", "'", "t".
    """
    return _BLEU_TOKEN.findall(text)


def _ngrams(tokens: list[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def modified_precision(gold_tokens: list[str], pred_tokens: list[str], n: int) -> tuple[int, int]:
    """BLEU's clipped n-gram precision as (numerator, denominator); the denominator is at least 1 (nltk)."""
    pred_counts = _ngrams(pred_tokens, n)
    gold_counts = _ngrams(gold_tokens, n)
    clipped = sum(min(count, gold_counts[gram]) for gram, count in pred_counts.items())
    return clipped, max(1, sum(pred_counts.values()))


def brevity_penalty(gold_length: int, pred_length: int) -> float:
    """1 for a prediction longer than the gold, 0 for an empty one, else exp(1 - gold/pred)."""
    if pred_length > gold_length:
        return 1.0
    if pred_length == 0:
        return 0.0
    return math.exp(1 - gold_length / pred_length)


def sentence_bleu_n(gold: str, pred: str, n: int) -> float:
    """Sentence BLEU with all weight on the n-gram precision: brevity penalty * p_n.

    This is what HELM computes with nltk `sentence_bleu(weights=(1,0,0,0))` for n=1 and
    `weights=(0,0,0,1)` for n=4. No smoothing: a zero n-gram count gives 0, as nltk's default
    (method0) does up to rounding (nltk returns bp * 2.2e-308 there, i.e. 0 in any mean).
    """
    gold_tokens = bleu_tokenize(gold)
    pred_tokens = bleu_tokenize(pred)
    numerator, denominator = modified_precision(gold_tokens, pred_tokens, n)
    if numerator == 0:
        return 0.0
    return brevity_penalty(len(gold_tokens), len(pred_tokens)) * numerator / denominator


def bleu_1(gold: str, pred: str) -> float:
    """Unigram sentence BLEU (see `sentence_bleu_n`)."""
    return sentence_bleu_n(gold, pred, 1)


def bleu_4(gold: str, pred: str) -> float:
    """4-gram-only sentence BLEU, HELM's weights (0, 0, 0, 1) (see `sentence_bleu_n`)."""
    return sentence_bleu_n(gold, pred, 4)
