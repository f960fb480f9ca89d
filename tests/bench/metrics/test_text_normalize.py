"""normalize_text follows HELM/SQuAD: lowercase, no punctuation, no articles, single spaces."""

from __future__ import annotations

from bench.metrics import normalize_text


def test_lowercases_and_drops_punctuation_articles_and_extra_spaces() -> None:
    assert normalize_text("  The Cat,  sat on A mat!  ") == "cat sat on mat"


def test_punctuation_goes_before_articles() -> None:
    # "the-cat" loses its hyphen first, so "thecat" is no longer the article "the".
    assert normalize_text("the-cat") == "thecat"
    # Articles only as whole words: "another" and "theory" stay.
    assert normalize_text("another theory an") == "another theory"
