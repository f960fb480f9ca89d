"""A small named registry, one per kind of plug-in (scenario, metric, perturbation, adapter, ...).

Plug-ins register with a decorator and an explicit name; a duplicate name is refused, and a failed lookup
raises `LookupError` naming the kind, the bad name and the nearest known names. Built-ins are registered by
importing their modules from one explicit function (`bench.load_builtins`), not by scattered side effects.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to plug-ins of one kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the decorated object under `name`.

        Raises:
            ValueError: if `name` is already registered.
        """

        def decorator(obj: T) -> T:
            self.add(name, obj)
            return obj

        return decorator

    def add(self, name: str, obj: T) -> None:
        """Register `obj` under `name`, refusing duplicates."""
        if name in self._items and self._items[name] is not obj:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = obj

    def get(self, name: str) -> T:
        """The plug-in registered as `name`.

        Raises:
            LookupError: naming the kind, the unknown name and the nearest known names.
        """
        try:
            return self._items[name]
        except KeyError:
            raise LookupError(unknown_name_message(self.kind, name, list(self._items))) from None

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def snapshot(self) -> dict[str, T]:
        """A copy of the registry's contents (tests restore it after registering their own plug-ins)."""
        return dict(self._items)

    def restore(self, snapshot: dict[str, T]) -> None:
        """Put back contents taken with `snapshot`."""
        self._items = dict(snapshot)


def unknown_name_message(kind: str, name: str, known: list[str]) -> str:
    """`unknown <kind> 'x'; did you mean ...? known: ...` for a failed lookup."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown {kind} {name!r}{hint} (known: {', '.join(sorted(known)) or 'none'})"
