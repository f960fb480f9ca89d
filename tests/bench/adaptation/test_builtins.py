"""The five adaptation methods are registered by bench.load_builtins()."""

from __future__ import annotations

from typing import get_args

import pytest

from bench.adaptation import ADAPTERS, AdapterSpec, InContextLearningAdapter, create_adapter
from bench.adaptation._adapter_spec import AdaptationMethod
from tests.fakes import WordTokenizer


def test_every_method_of_the_spec_has_an_adapter() -> None:
    assert set(get_args(AdaptationMethod)) <= set(ADAPTERS.names())
    for method in get_args(AdaptationMethod):
        adapter = create_adapter(AdapterSpec(method=method), WordTokenizer(), 200)
        assert adapter.adapter_spec.method == method
        assert isinstance(adapter, InContextLearningAdapter) == (method != "language_modeling")


def test_unknown_method_lookup_names_the_nearest() -> None:
    with pytest.raises(LookupError, match="did you mean 'generation'"):
        ADAPTERS.get("generaton")
