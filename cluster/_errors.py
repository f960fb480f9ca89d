"""Errors of the Ray execution layer.

    MercuryError (bench)
     `-- ClusterError               anything the sharded execution reports to a user
          |-- StorageError          the output location cannot be read or written (after retries)
          |-- ResumeError           stored shards do not belong to the run being resumed
          |-- ShardFailedError      a shard task failed for a reason other than storage
          `-- ProxyUnavailableError the proxy app did not answer within its deadline, or stayed unavailable

Like every MercuryError they pickle with their fields, so they cross from a task to the driver intact.
"""

from __future__ import annotations

from bench import MercuryError


class ClusterError(MercuryError):
    """Base of the errors of sharded execution."""


class StorageError(ClusterError):
    """An operation on the output storage failed (after its retries, when the failure looked transient)."""

    def __init__(self, operation: str, location: str, problem: str) -> None:
        self.operation = operation
        self.location = location
        self.problem = problem
        super().__init__(f"storage: cannot {operation} {location}: {problem}")


class ResumeError(ClusterError):
    """Shards in storage were made from other request states than the run being resumed."""

    def __init__(self, run: str, location: str, problem: str) -> None:
        self.run = run
        self.location = location
        self.problem = problem
        super().__init__(f"run {run!r}: cannot resume from {location}: {problem}; rerun with --force to recompute")


class ShardFailedError(ClusterError):
    """A shard task failed (after Ray's retries) for a reason that is not a storage error."""

    def __init__(self, run: str, shard_id: str, problem: str) -> None:
        self.run = run
        self.shard_id = shard_id
        self.problem = problem
        super().__init__(f"run {run!r}: shard {shard_id} failed: {problem}")


class ProxyUnavailableError(ClusterError):
    """The proxy app did not answer a call within its deadline, or its replicas stayed unavailable."""

    def __init__(self, method: str, seconds: float, cause: str) -> None:
        self.method = method
        self.seconds = seconds
        self.cause = cause
        super().__init__(f"the proxy did not answer {method} for {seconds:.0f} s (last: {cause}); rerun to resume")
