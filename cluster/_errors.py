"""Errors of the Ray layer. A run's own errors (storage, resume, a failed shard) are bench's (`bench.RunError`),
since the pipeline that raises them is bench's whatever executes it.

    MercuryError (bench)
     `-- ClusterError               what the Ray layer reports to a user
          `-- ProxyUnavailableError the proxy app did not answer within its deadline, or stayed unavailable

Like every MercuryError they pickle with their fields, so they cross from a task to the driver intact.
"""

from __future__ import annotations

from bench import MercuryError


class ClusterError(MercuryError):
    """Base of the errors of the Ray layer."""


class ProxyUnavailableError(ClusterError):
    """The proxy app did not answer a call within its deadline, or its replicas stayed unavailable."""

    def __init__(self, method: str, seconds: float, cause: str) -> None:
        self.method = method
        self.seconds = seconds
        self.cause = cause
        super().__init__(f"the proxy did not answer {method} for {seconds:.0f} s (last: {cause}); rerun to resume")
