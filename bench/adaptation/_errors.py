"""Errors raised while adapting instances into requests.

MercuryError                      (bench._errors)
 `-- AdaptationError              an AdapterSpec that cannot produce requests for this model
"""

from __future__ import annotations

from bench._errors import MercuryError


class AdaptationError(MercuryError):
    """An AdapterSpec that cannot produce requests (no room in the context window, a malformed prefix)."""

    def __init__(self, *, method: str, problem: str) -> None:
        self.method = method
        self.problem = problem
        super().__init__(f"adaptation method {method!r}: {problem}")
