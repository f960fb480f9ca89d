"""Which RunSpecs of a suite are done, running, failed or missing (status.txt and status.json).

The expected runs are the entries of the suite in run_specs.conf, expanded for each model the way
`benchmark-run` expands them (`-m` models, or else every model that has a run in the suite). Each expected run
is then looked up in `runs/<suite>/`:

    done      its stats.json exists (written last by the runner, so the run is complete)
    failed    no stats.json, and either an error marker `error.json` ({"error": "..."}) is in the folder, or
              nothing in the folder changed for `stale_after` seconds (the run was interrupted)
    running   no stats.json, no error marker, and a file in the folder changed within `stale_after` seconds
    missing   no folder at all

Runs present in the folder but not listed in the suite are reported too, with an empty entry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from bench._errors import MercuryError, StorageError
from bench.presentation._model import StatusEntry, SuiteStatus
from bench.run_specs import expand_run_entry, parse_run_entry, read_run_specs_conf
from bench.runner import ERROR_FILE, Storage, storage_path  # ERROR_FILE: a stopped run's marker, {"error": "..."}

STATS_FILE = "stats.json"
DEFAULT_STALE_AFTER = 3600.0
"""Seconds without a change after which an unfinished run counts as failed rather than running."""

STATUS_ORDER = ("done", "running", "failed", "missing")


def run_state(
    storage: Storage, suite: str, run_dir: str, *, now: float, stale_after: float = DEFAULT_STALE_AFTER
) -> tuple[str, str]:
    """(status, detail) of the run folder `run_dir` of `suite`; see the module docstring for the rules."""
    base = storage_path("runs", suite, run_dir)
    if storage.info(storage_path(base, STATS_FILE)) is not None:
        return "done", ""
    if storage.info(storage_path(base, ERROR_FILE)) is not None:
        return "failed", _error_message(storage, storage_path(base, ERROR_FILE))
    names = storage.entries(base)
    if not names:
        return "missing", ""
    infos = [info for info in (storage.info(storage_path(base, n)) for n in names) if info is not None]
    newest = max((info.mtime for info in infos), default=0.0)
    idle = now - newest
    if idle <= stale_after:
        return "running", f"last write {idle:.0f} s ago"
    return "failed", f"no stats.json and no change for {idle / 60:.0f} min (interrupted?)"


def _error_message(storage: Storage, path: str) -> str:
    try:
        data = json.loads(storage.read_text(path))
        message = str(data.get("error", "")) if isinstance(data, dict) else str(data)
    except (StorageError, ValueError):  # a marker that cannot be read still marks a failure
        message = ""
    return (message.splitlines() or ["error marker found"])[0][:300]


def suite_status(
    storage: Storage,
    suite: str,
    *,
    conf_path: str | Path | None,
    models: Sequence[str] = (),
    present_models: Iterable[str] = (),
    max_priority: int | None = None,
    now: float | None = None,
    stale_after: float = DEFAULT_STALE_AFTER,
) -> SuiteStatus:
    """The status of every expected run of `suite`, and of the runs present that the suite does not list.

    Args:
        storage: the results root.
        suite: suite name (a `[suite NAME]` of the conf file and the folder `runs/NAME`).
        conf_path: run_specs.conf; None lists only the runs present.
        models: models (or groups) to expand entries that name none, as `-m` does for benchmark-run.
        present_models: used when `models` is empty: the models that already have runs in the suite.
        max_priority: only entries up to this priority, like benchmark-run's --priority.
        now: the time to judge "recently modified" against (tests pass it).
        stale_after: seconds without a change after which an unfinished run is failed.

    Raises:
        ConfigError: if the conf file is missing or unreadable.
    """
    now = time.time() if now is None else now
    status = SuiteStatus(suite=suite, conf_path=str(conf_path) if conf_path else None)
    expected: dict[str, str] = {}
    if conf_path is not None:
        suites = read_run_specs_conf(conf_path)
        if suite not in suites:
            status.notes.append(f"suite {suite!r} is not in {conf_path}: only the runs present are listed")
        else:
            entries = [e.description for e in suites[suite] if max_priority is None or e.priority <= max_priority]
            status.models = list(models) or sorted(set(present_models))
            expected = _expected_runs(entries, status.models, status.notes)
    for name, entry in expected.items():
        state, detail = run_state(storage, suite, _folder(name), now=now, stale_after=stale_after)
        status.entries.append(StatusEntry(run=name, entry=entry, status=state, detail=detail))
    listed = {_folder(name) for name in expected}
    for run_dir in storage.entries(storage_path("runs", suite)):
        if run_dir not in listed and storage.info(storage_path("runs", suite, run_dir, "run_spec.json")) is not None:
            state, detail = run_state(storage, suite, run_dir, now=now, stale_after=stale_after)
            status.entries.append(StatusEntry(run=run_dir, entry="", status=state, detail=detail))
    return status


def _folder(run_name: str) -> str:
    """The folder benchmark-run writes a run to (see bench.runner.run_dir)."""
    return run_name.replace("/", "_")


def _expected_runs(entries: list[str], models: Sequence[str], notes: list[str]) -> dict[str, str]:
    """Run name -> entry, expanding each entry for each model (entries that name a model keep their own)."""
    expected: dict[str, str] = {}
    for entry in entries:
        try:
            names_model = "model" in parse_run_entry(entry).reserved
            if not names_model and not models:
                continue
            targets: Sequence[str | None] = [None] if names_model else list(models)
            for model in targets:
                for run_spec in expand_run_entry(entry, default_model=model):
                    expected.setdefault(run_spec.name, entry)
        except MercuryError as e:
            notes.append(f"cannot expand {entry!r}: {e}")
    if entries and not models:
        notes.append("no model given (-m) and no run present: entries without model= cannot be expanded")
    return expected


def status_text(status: SuiteStatus) -> str:
    """status.txt: counts first, then one line per run (status, run name, detail)."""
    counts = status.counts()
    source = f"{status.conf_path} [suite {status.suite}]" if status.conf_path else "no run_specs.conf"
    lines = [
        f"Suite {status.suite}: {sum(1 for e in status.entries if e.entry)} expected runs from {source}",
        f"models: {', '.join(status.models) or '-'}",
        ", ".join(f"{name} {counts.get(name, 0)}" for name in STATUS_ORDER) + f"; not listed {status.num_unlisted}",
        *(f"note: {note}" for note in status.notes),
        "",
    ]
    listed = [e for e in status.entries if e.entry]
    unlisted = [e for e in status.entries if not e.entry]
    lines += [_line(e) for e in sorted(listed, key=_order)]
    if unlisted:
        lines += ["", "Runs present but not listed in the suite:"]
        lines += [_line(e) for e in sorted(unlisted, key=_order)]
    return "\n".join(lines) + "\n"


def _order(entry: StatusEntry) -> tuple[int, str]:
    return STATUS_ORDER.index(entry.status) if entry.status in STATUS_ORDER else len(STATUS_ORDER), entry.run


def _line(entry: StatusEntry) -> str:
    return f"{entry.status:<8} {entry.run}" + (f"  ({entry.detail})" if entry.detail else "")
