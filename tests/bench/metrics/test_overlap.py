"""F1 (HELM's and SQuAD's), ROUGE-L and BLEU against values computed by hand.

The parity table (test_helm_parity.py) compares these with the reference libraries on many strings; the cases
here spell out what the numbers are, including where HELM's definitions differ from the textbook ones.
"""

from __future__ import annotations

import math

import pytest

from bench.metrics import bleu_1, bleu_4, f1_score, rouge_l, squad_f1


def test_f1_of_overlapping_answers() -> None:
    # normalized: gold "cat sat" (2 tokens), pred "cat sat down" (3); overlap 2.
    # P = 2/3, R = 2/2 = 1, F1 = 2 * (2/3) * 1 / (2/3 + 1) = 0.8 (the same for sets and multisets)
    assert f1_score("the cat sat", "a cat sat down") == pytest.approx(0.8)
    assert squad_f1("the cat sat", "a cat sat down") == pytest.approx(0.8)


def test_helm_f1_counts_token_sets_squad_f1_multisets() -> None:
    # sets: {"dog"} vs {"dog"} -> 1. multisets: overlap 1, P = 1/4, R = 1 -> 2 * 1/4 / (5/4) = 0.4
    assert f1_score("dog dog dog dog", "dog") == 1.0
    assert squad_f1("dog dog dog dog", "dog") == pytest.approx(0.4)
    assert f1_score("cat", "cat cat") == 1.0
    assert squad_f1("cat", "cat cat") == pytest.approx(2 / 3)


def test_f1_edge_cases() -> None:
    assert f1_score("cat", "dog") == 0.0
    assert f1_score("cat", "") == 0.0
    assert squad_f1("cat", "") == 0.0
    # Both normalize to nothing: HELM (nltk's f_measure of two empty sets is None) scores 0, SQuAD 1.
    assert f1_score("The", "a.") == 0.0
    assert squad_f1("The", "a.") == 1.0


def test_rouge_l_of_a_small_pair() -> None:
    # gold: the quick brown fox jumps high (6 tokens); pred: the slow brown (3 tokens)
    # LCS = "the brown" = 2; P = 2/3, R = 2/6 = 1/3; F = 2 * (2/9) / (2/3 + 1/3) = 4/9
    assert rouge_l("the quick brown fox jumps high", "the slow brown") == pytest.approx(4 / 9)


def test_rouge_l_lowercases_and_ignores_punctuation() -> None:
    # tokens: the cat sat on the mat / the cat lay on a mat: LCS "the cat on mat" = 4 of 6 each -> F = 2/3
    assert rouge_l("The cat sat on the mat.", "the cat, lay on a mat") == pytest.approx(2 / 3)
    assert rouge_l("cat", "") == 0.0


def test_rouge_l_stems_with_porter() -> None:
    # Porter: studies -> studi, studying -> studi; cats -> cat
    assert rouge_l("studies", "studying") == 1.0
    assert rouge_l("the cats", "the cat") == 1.0


def test_bleu_with_punctuation_and_no_brevity_penalty() -> None:
    # gold tokens: the cat sat on the mat (6); pred tokens: the cat sat on a mat . (7)
    # unigrams: the(1, clipped to gold's 2 -> 1) cat sat on mat match, "a" and "." do not -> 5/7
    # 4-grams of pred: "the cat sat on" (in gold), "cat sat on a", "sat on a mat", "on a mat ." -> 1/4
    # pred is longer than gold -> brevity penalty 1
    assert bleu_1("the cat sat on the mat", "the cat sat on a mat.") == pytest.approx(5 / 7)
    assert bleu_4("the cat sat on the mat", "the cat sat on a mat.") == pytest.approx(1 / 4)


def test_bleu_tokenizes_as_nltk() -> None:
    # word_tokenize: "don't" -> do, n't; "do not" -> do, not: one unigram of two matches, same length -> 0.5
    assert bleu_1("do not", "don't") == pytest.approx(0.5)
    # Punkt knows "Mr." is an abbreviation (kept whole) and that the last period ends the sentence (split off):
    # pred Mr. Smith sat . (4) vs gold Mr Smith sat (3): Smith, sat match -> 2/4, pred longer -> BP 1
    assert bleu_1("Mr Smith sat", "Mr. Smith sat.") == pytest.approx(2 / 4)


def test_bleu_brevity_penalty_and_clipping() -> None:
    # gold: the cat is on the mat (6); pred: the cat the mat (4)
    # unigrams: the x2 (gold has 2) + cat + mat -> 4/4; BP = exp(1 - 6/4) = exp(-0.5) = 0.606531
    assert bleu_1("the cat is on the mat", "the cat the mat") == pytest.approx(math.exp(-0.5))
    # its only 4-gram "the cat the mat" is not in gold -> 0 without smoothing; nltk (hence HELM) returns
    # BP * sys.float_info.min for it rather than 0, the same in any mean
    assert bleu_4("the cat is on the mat", "the cat the mat") == pytest.approx(0.0, abs=1e-300)
    # clipping: pred "the the the" against gold "the cat" -> 1/3, longer than gold so BP = 1
    assert bleu_1("the cat", "the the the") == pytest.approx(1 / 3)


def test_bleu_4_shorter_prediction_with_all_4grams_right() -> None:
    # gold 7 tokens, pred 6 tokens; pred's 3 four-grams all in gold -> p4 = 1; BP = exp(1 - 7/6) = 0.846482
    assert bleu_4("the cat sat on the mat today", "the cat sat on the mat") == pytest.approx(math.exp(-1 / 6))


def test_bleu_of_empty_or_too_short_prediction_is_zero() -> None:
    assert bleu_1("the cat", "") == 0.0
    # fewer than 4 tokens: no 4-gram can match (nltk's sys.float_info.min again, see above)
    assert bleu_4("the cat sat", "the cat sat") == pytest.approx(0.0, abs=1e-300)
