"""The exact-match family, including HELM's rule that an empty prediction never matches."""

from __future__ import annotations

import pytest

from bench.metrics import exact_match, prefix_exact_match, quasi_exact_match, quasi_prefix_exact_match


def test_exact_match_strips_but_keeps_case() -> None:
    assert exact_match("Paris", "  Paris\n") == 1.0
    assert exact_match("Paris", "paris") == 0.0


def test_quasi_exact_match_normalizes() -> None:
    assert quasi_exact_match("The Eiffel Tower", "eiffel tower.") == 1.0
    assert quasi_exact_match("Eiffel Tower", "Eiffel") == 0.0


def test_prefix_matches_allow_trailing_text() -> None:
    assert prefix_exact_match("Paris", " Paris is the capital") == 1.0
    assert prefix_exact_match("Paris", "It is Paris") == 0.0
    assert quasi_prefix_exact_match("the paris", "PARIS, France") == 1.0


@pytest.mark.parametrize("fn", [exact_match, quasi_exact_match, prefix_exact_match, quasi_prefix_exact_match])
def test_empty_prediction_scores_zero_even_against_empty_gold(fn: object) -> None:
    assert callable(fn)
    assert fn("", "") == 0.0
