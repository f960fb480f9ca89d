"""Registry: decorator registration, refused duplicates, helpful lookup errors."""

from __future__ import annotations

import pytest

from bench import Registry


def test_register_and_get() -> None:
    registry: Registry[object] = Registry("widget")

    @registry.register("round")
    class Round:
        pass

    assert registry.get("round") is Round
    assert "round" in registry and registry.names() == ["round"]


def test_duplicate_name_is_refused() -> None:
    registry: Registry[int] = Registry("widget")
    registry.add("a", 1)
    with pytest.raises(ValueError, match="widget 'a' is already registered"):
        registry.add("a", 2)


def test_unknown_name_suggests_nearest() -> None:
    registry: Registry[int] = Registry("scenario")
    for name in ("simple1", "lpm", "numeracy"):
        registry.add(name, 0)
    with pytest.raises(LookupError, match=r"unknown scenario 'simpel1'; did you mean 'simple1'\?.*known: lpm"):
        registry.get("simpel1")


def test_snapshot_and_restore() -> None:
    registry: Registry[int] = Registry("widget")
    registry.add("a", 1)
    saved = registry.snapshot()
    registry.add("b", 2)
    registry.restore(saved)
    assert registry.names() == ["a"]
