"""Which runs are already complete in a `Storage`, answered without Ray.

A run is complete when its folder holds stats.json (written last, see bench.runner._runner) AND its run_spec.json
equals the run spec asked for now. The name alone is not enough: options such as `max_eval_instances` change a
run spec without changing its name, and a stats.json made for another spec must not be reported as this run's.

This module needs no model and no runner, so benchmark-run can answer "nothing to do" (and a missing
bucket) in a fraction of a second, before it starts or joins a cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.run_specs import RunSpec
from bench.runner._output import RUN_INFO_FILE, RUN_SPEC_FILE, STATS_FILE, run_path, to_jsonable
from bench.runner._result import RunResult, completed_result
from bench.runner._storage import Storage


@dataclass
class StoredRuns:
    """The runs asked for, sorted by what the storage holds for them."""

    complete: dict[str, RunResult] = field(default_factory=dict)
    """Results read back from storage (marked `skipped`), by run name: nothing to do for these."""
    stale: dict[str, str] = field(default_factory=dict)
    """Runs whose stats.json was made for another run spec, by name: why, in one line (they need --force)."""
    todo: list[RunSpec] = field(default_factory=list)
    """Runs to do (never started, or started and not finished: a runner resumes them), in the order asked."""


def stored_runs(storage: Storage, suite: str, run_specs: list[RunSpec]) -> StoredRuns:
    """Sort `run_specs` into complete, stale and to do by what `storage` holds under `runs/<suite>/`.

    Raises:
        StorageError: the storage cannot be read (a missing bucket, bad credentials, ...).
    """
    found = StoredRuns()
    for run_spec in run_specs:
        folder = run_path(suite, run_spec.name)
        if not storage.exists(f"{folder}/{STATS_FILE}"):
            found.todo.append(run_spec)
            continue
        spec_file = f"{folder}/{RUN_SPEC_FILE}"
        stored_spec = storage.read_json(spec_file) if storage.exists(spec_file) else None
        if stored_spec != to_jsonable(run_spec):
            why = f"it has no {RUN_SPEC_FILE}" if stored_spec is None else f"its {RUN_SPEC_FILE} differs"
            found.stale[run_spec.name] = (
                f"{storage.location(folder)} holds the results of another run spec ({why}): rerun with --force "
                "to recompute it, or choose another --suite or --output-path"
            )
            continue
        found.complete[run_spec.name] = stored_result(storage, folder, run_spec)
    return found


def stored_result(storage: Storage, folder: str, run_spec: RunSpec) -> RunResult:
    """A complete run's result as stored in `storage` (see `bench.runner.completed_result`)."""
    return completed_result(run_spec, storage.read_json(f"{folder}/{STATS_FILE}"), stored_info(storage, folder),
                            _local_dir(storage.local_path(), folder))  # fmt: skip


def stored_info(storage: Storage, folder: str) -> dict[str, Any]:
    """The run's run_info.json, or {} when it has none."""
    info_file = f"{folder}/{RUN_INFO_FILE}"
    return storage.read_json(info_file) if storage.exists(info_file) else {}


def _local_dir(root: str | None, folder: str) -> Path | None:
    return Path(root) / folder if root is not None else None
