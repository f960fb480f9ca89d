"""Errors raised by the evaluation core.

Every error a user can cause derives from `MercuryError`, so the command-line layer can print one clear
line for it and no traceback. The tree:

    MercuryError                      anything Mercury reports to a user
     |-- RunEntryError                a run entry (`name:key=value,...`) that cannot become RunSpecs
     |-- ConfigError                  a configuration file that is missing or invalid
     |-- UnknownModelError            a model name that no deployment describes
     |-- ModelUnavailableError        a model that exists but cannot run here (missing package or file)
     |-- PluginError                  a plug-in module (--plugins, an entry point) that cannot be imported
     |-- ScenarioDataError            a scenario whose data cannot be produced or read
     `-- RunError                     a run's pipeline cannot go on (bench.runner)
          |-- StorageError            the output location cannot be read or written (after retries)
          |    `-- MissingFileError    a file to read is not there
          |-- ResumeError             stored shards do not belong to the run being resumed
          `-- ShardFailedError        a shard failed (on Ray: after its retries) for a reason other than storage

`LookupError` (the builtin) is raised by registries for unknown names, with the nearest known names.
"""

from __future__ import annotations

from typing import Any


class MercuryError(Exception):
    """Base of every error Mercury reports to a user."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by state, not by constructor arguments: Ray carries an error from a task or an actor back to
        its caller by pickling it, and the default pickling of an exception calls `__init__` with the message
        alone, which fails for every subclass built from fields."""
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[MercuryError], args: tuple[Any, ...], state: dict[str, Any]) -> MercuryError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class RunEntryError(MercuryError):
    """A run entry that is malformed, names an unknown scenario, or has a bad argument."""

    def __init__(self, entry: str, problem: str) -> None:
        self.entry = entry
        self.problem = problem
        super().__init__(f"run entry {entry!r}: {problem}")


class ConfigError(MercuryError):
    """A configuration file that is missing or does not validate."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class UnknownModelError(MercuryError):
    """A model name that no entry of configs/model_deployments.yaml describes."""

    def __init__(self, model: str, known: list[str]) -> None:
        self.model = model
        self.known = known
        super().__init__(f"unknown model {model!r}; known models: {', '.join(sorted(known))}")


class ModelUnavailableError(MercuryError):
    """A known model that cannot run here, with what the user can do about it."""

    def __init__(self, model: str, reason: str) -> None:
        self.model = model
        self.reason = reason
        super().__init__(f"model {model!r} is unavailable: {reason}")


class PluginError(MercuryError):
    """A plug-in module that cannot be imported (`bench.load_plugins`), named with where it was named."""

    def __init__(self, module: str, origin: str, problem: str) -> None:
        self.module = module
        self.origin = origin
        self.problem = problem
        super().__init__(f"plug-in module {module!r} (from {origin}) cannot be imported: {problem}")


class ScenarioDataError(MercuryError):
    """A scenario whose data cannot be produced or read."""


class RunError(MercuryError):
    """Base of the errors of a run's pipeline (bench.runner), whatever executes its shards."""


class StorageError(RunError):
    """An operation on the output storage failed (after its retries, when the failure looked transient)."""

    def __init__(self, operation: str, location: str, problem: str) -> None:
        self.operation = operation
        self.location = location
        self.problem = problem
        super().__init__(f"storage: cannot {operation} {location}: {problem}")


class MissingFileError(StorageError):
    """The file an operation needed is not in the storage (readers that expect gaps, like the presentation,
    catch this one; everyone else sees a StorageError)."""


class ResumeError(RunError):
    """Shards in storage were made from other request states than the run being resumed."""

    def __init__(self, run: str, location: str, problem: str) -> None:
        self.run = run
        self.location = location
        self.problem = problem
        super().__init__(f"run {run!r}: cannot resume from {location}: {problem}; rerun with --force to recompute")


class ShardFailedError(RunError):
    """A shard failed (on Ray: after its retries) for a reason that is not a storage error."""

    def __init__(self, run: str, shard_id: str, problem: str) -> None:
        self.run = run
        self.shard_id = shard_id
        self.problem = problem
        super().__init__(f"run {run!r}: shard {shard_id} failed: {problem}")
