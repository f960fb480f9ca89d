"""Presenting a suite: read what changed, write the static site, the summary and the status files.

The site folder holds:

    index.html  runs.html  groups/<group>.html   the leaderboard, every run, one page per scenario group
    runs/<run>/index.html, run_spec.json, data/  one page per run and its chunked instance data
    assets/                                      the site's CSS and JavaScript (no file from the network)
    summary.json  status.txt  status.json        the summary model and the status of the suite's runs
    manifest.json                                which version of each run the site shows (for incremental updates)

Every link is relative, so the folder works opened from disk, from a static host or an S3 website, and
under a prefix such as the proxy's /benchmarks/.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from bench.presentation._model import RunSummary, SuiteSummary
from bench.presentation._pages import group_page, index_page, runs_page
from bench.presentation._run_page import run_page, write_run_data
from bench.presentation._status import DEFAULT_STALE_AFTER, status_text, suite_status
from bench.presentation._summary import CachedRun, build_suite_summary, collect_runs
from bench.runner import FileInfo, Storage

logger = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"
MANIFEST_VERSION = 2
"""Bumped when a run's summary is built differently (2: a run is never shown in another scenario's group, a model
without prices has no cost), so that a site made before is rebuilt from the runs rather than from its manifest."""
ASSETS = ("site.css", "table.js", "run.js")


@dataclass
class PresentResult:
    """What a presentation did: where the site is, and which runs it read or reused."""

    site_dir: Path
    summary: SuiteSummary
    runs_read: list[str] = field(default_factory=list)
    runs_reused: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def index(self) -> Path:
        return self.site_dir / "index.html"


def present_suite(
    storage: Storage,
    suite: str,
    site_dir: str | Path,
    *,
    conf_path: str | Path | None = None,
    models: Sequence[str] = (),
    max_priority: int | None = None,
    stale_after: float = DEFAULT_STALE_AFTER,
    now: float | None = None,
) -> PresentResult:
    """Read the runs of `suite` that changed since the last presentation into `site_dir` and write the site.

    Args:
        storage: the results root holding runs/<suite>/.
        suite: the suite to present.
        site_dir: folder of the site (created; kept between presentations for incremental updates).
        conf_path: run_specs.conf for the status of the suite's entries (None: only the runs present).
        models: models that the suite's entries are expanded with for the status (default: those with runs).
        max_priority: status only for entries up to this priority.
        stale_after: seconds without a change after which an unfinished run counts as failed.
        now: the current time for the status (tests pass it).

    Raises:
        ConfigError: if conf_path is missing or unreadable.
    """
    site = Path(site_dir)
    previous = load_manifest(site, suite)
    collection = collect_runs(storage, suite, previous)
    for data in collection.read:
        write_run_data(data, site / "runs" / data.summary.slug)
    _remove_gone_runs(site, {s.slug for s in collection.summaries})
    status = suite_status(
        storage,
        suite,
        conf_path=conf_path,
        models=models,
        present_models=[s.model for s in collection.summaries],
        max_priority=max_priority,
        now=now,
        stale_after=stale_after,
    )
    summary = build_suite_summary(suite, storage.describe(), collection.summaries, status)
    write_site(summary, site)
    _save_manifest(site, suite, summary.runs, collection.infos)
    return PresentResult(
        site_dir=site,
        summary=summary,
        runs_read=[d.summary.dir for d in collection.read],
        runs_reused=collection.reused,
        problems=collection.problems,
    )


def write_site(summary: SuiteSummary, site: Path) -> None:
    """Write every page, the assets, summary.json and the status files (run data must already be there)."""
    site.mkdir(parents=True, exist_ok=True)
    _copy_assets(site / "assets")
    _write(site / "index.html", index_page(summary))
    _write(site / "runs.html", runs_page(summary))
    groups_dir = site / "groups"
    if groups_dir.exists():
        shutil.rmtree(groups_dir)
    for group in summary.groups:
        _write(groups_dir / f"{group.slug}.html", group_page(group, summary.runs, summary.suite))
    for run in summary.runs:
        _write(site / "runs" / run.slug / "index.html", run_page(run, summary.suite))
    _write(site / "summary.json", summary.model_dump_json(indent=1))
    if summary.status is not None:
        _write(site / "status.txt", status_text(summary.status))
        _write(site / "status.json", summary.status.model_dump_json(indent=1))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _copy_assets(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    static = resources.files("bench.presentation") / "static"
    for name in ASSETS:
        (target / name).write_bytes((static / name).read_bytes())


def _remove_gone_runs(site: Path, keep: set[str]) -> None:
    """Delete the pages of runs that are no longer complete in storage (removed or being re-run)."""
    runs_dir = site / "runs"
    if not runs_dir.is_dir():
        return
    for folder in runs_dir.iterdir():
        if folder.is_dir() and folder.name not in keep:
            shutil.rmtree(folder)


def load_manifest(site: Path, suite: str) -> dict[str, CachedRun]:
    """The runs the site already shows, by run folder; {} when there is no usable manifest."""
    path = site / MANIFEST_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != MANIFEST_VERSION or data.get("suite") != suite:
            return {}
        cached = {
            run_dir: CachedRun(
                size=item["size"], mtime=item["mtime"], summary=RunSummary.model_validate(item["summary"])
            )
            for run_dir, item in data["runs"].items()
        }
    except (ValueError, KeyError, TypeError, ValidationError) as e:
        logger.warning("%s is unreadable (%s): every run is read again", path, e)
        return {}
    # a run whose data folder is gone (deleted by hand) is read again
    return {d: c for d, c in cached.items() if (site / "runs" / c.summary.slug / "data").is_dir()}


def _save_manifest(site: Path, suite: str, runs: Sequence[RunSummary], infos: dict[str, FileInfo]) -> None:
    entries = {}
    for run in runs:
        info = infos[run.dir]
        entries[run.dir] = {"size": info.size, "mtime": info.mtime, "summary": run.model_dump(mode="json")}
    data = {"version": MANIFEST_VERSION, "suite": suite, "runs": entries}
    _write(site / MANIFEST_FILE, json.dumps(data, ensure_ascii=False))
