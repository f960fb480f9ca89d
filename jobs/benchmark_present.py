"""`benchmark-present`: the results of a suite as a static website, a summary and status files.

benchmark-present --suite demo
benchmark-present --suite demo -o benchmark_output -m simple/model1 -m local/smollm2-135m
benchmark-present --suite demo --site-dir /srv/www/demo
benchmark-present --suite classic -o s3://my-bucket/mercury     # site in ./benchmark_output/presentation/classic
benchmark-present --suite classic -o s3://my-bucket/mercury --site-dir s3://my-site/classic   # and uploaded

The site is written to OUTPUT/presentation/SUITE/ unless --site-dir says otherwise; for results on S3 the
default is ./benchmark_output/presentation/SUITE/ (where `proxy-server` serves /benchmarks/ from). Open its
index.html. Presenting again reads only the runs whose stats.json changed (size or modification time).
With --site-dir s3://..., the site is written locally as without it, then only the files that changed are
uploaded (objects the site no longer has are deleted), ready for an S3 static website.
S3 settings (credentials, region, AWS_ENDPOINT_URL for an S3-compatible server) are the standard AWS ones.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import bench
from bench import MercuryError
from bench.models import config_dir
from bench.presentation import PresentResult, present_suite
from bench.presentation._status import DEFAULT_STALE_AFTER, STATUS_ORDER
from bench.run_specs import read_run_specs_conf
from bench.runner import Storage
from cluster import PublishResult, publish_site
from jobs._logging import configure_logging

logger = logging.getLogger("benchmark-present")

EXIT_USER_ERROR = 2
PROG = "benchmark-present"
S3_SCHEME = "s3://"
LOCAL_OUTPUT = "benchmark_output"
"""The local results folder; for results on S3, the site goes to LOCAL_OUTPUT/presentation/SUITE."""


def build_parser() -> argparse.ArgumentParser:
    """The command line of benchmark-present."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Summarize the runs of a suite: a static website (leaderboard, scenario groups, runs with "
        "their instances, robustness, calibration, cost), summary.json, status.txt and status.json.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    parser.add_argument("--suite", required=True, help="the suite to present (runs/SUITE under the output path)")
    parser.add_argument("-o", "--output-path", default=LOCAL_OUTPUT,
                        help="results that benchmark-run wrote: a folder or s3://bucket/prefix "
                        "(default: benchmark_output)")  # fmt: skip
    parser.add_argument("--site-dir", default=None,
                        help="folder to write the site to (default: OUTPUT/presentation/SUITE, or "
                        "benchmark_output/presentation/SUITE for results on S3); an s3://bucket/prefix "
                        "uploads the site there after writing it to the default folder")  # fmt: skip
    parser.add_argument("-c", "--conf-path", default=None,
                        help="run_specs.conf for the status of the suite's entries "
                        "(default: configs/run_specs.conf)")  # fmt: skip
    parser.add_argument("-m", "--model", dest="models", action="append", default=[],
                        help="model (or group) the entries are expanded with for the status, as benchmark-run -m; "
                        "repeat for more (default: the models that have runs in the suite)")  # fmt: skip
    parser.add_argument("--priority", type=int, default=None, help="status only for entries up to this priority")
    parser.add_argument("--stale-after", type=float, default=DEFAULT_STALE_AFTER, metavar="SECONDS",
                        help="an unfinished run unchanged for this long counts as failed, not running")  # fmt: skip
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO (default), WARNING")
    return parser


def _conf_path(given: str | None) -> Path | None:
    """The conf file the user named (which must exist), else the default one when it exists."""
    if given:
        return Path(given)
    default = config_dir() / "run_specs.conf"
    return default if default.is_file() else None


def open_results(output_path: str) -> Storage:
    """The results root, a local folder or `s3://bucket/prefix`, read through the Storage that wrote it.

    Raises:
        ConfigError: if a local path is a file. StorageError: if the bucket is missing or not readable.
    """
    storage = Storage(output_path)
    storage.check_readable()
    return storage


def default_site_dir(output_path: str, suite: str) -> Path:
    """OUTPUT/presentation/SUITE for a local folder; ./benchmark_output/presentation/SUITE for S3."""
    base = LOCAL_OUTPUT if output_path.startswith(S3_SCHEME) else output_path
    return Path(base) / "presentation" / suite


def forget_other_source(site_dir: Path, source: str) -> None:
    """Drop the manifest of a site built from other results (another bucket or folder), so that every run
    is read again instead of trusting a run folder of the same name, size and time elsewhere."""
    manifest = site_dir / "manifest.json"
    try:
        previous = json.loads((site_dir / "summary.json").read_text(encoding="utf-8")).get("source")
    except (OSError, ValueError, AttributeError):
        return
    if previous != source and manifest.is_file():
        logger.info("%s showed %s, not %s: reading every run", site_dir, previous, source)
        manifest.unlink()


def _check_suite(storage: Storage, suite: str, conf_path: Path | None) -> None:
    """A suite with no run folder must at least be named in the conf file (catches a mistyped name)."""
    if storage.entries(f"runs/{suite}"):
        return
    if conf_path is not None and suite in read_run_specs_conf(conf_path):
        return
    present = ", ".join(storage.entries("runs")) or "none"
    raise MercuryError(
        f"no runs of suite {suite!r} in {storage.describe()}/runs/{suite} and no such suite in "
        f"{conf_path or 'run_specs.conf'} (suites with runs: {present})"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for a user's mistake, with one line saying what)."""
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    try:
        result, published = present(args)
    except MercuryError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as e:
        print(f"{PROG}: error: {e.filename or ''}: {e.strerror or e}", file=sys.stderr)
        return EXIT_USER_ERROR
    for problem in result.problems:
        print(f"{PROG}: warning: skipped {problem}", file=sys.stderr)
    runs = len(result.summary.runs)
    print(f"{runs} runs of suite {args.suite} ({len(result.runs_read)} read, {len(result.runs_reused)} unchanged)")
    if result.summary.status is not None:
        counts = result.summary.status.counts()
        line = ", ".join(f"{name} {counts.get(name, 0)}" for name in STATUS_ORDER)
        print(f"Status: {line} -> {result.site_dir / 'status.txt'}")
    print(f"Site: {result.index.resolve()}")
    if published is not None:
        print(
            f"Published to {args.site_dir}: {published.uploaded} files uploaded, {published.unchanged} unchanged, "
            f"{published.deleted} deleted"
        )
    return 0


def present(args: argparse.Namespace) -> tuple[PresentResult, PublishResult | None]:
    """Present the suite into the local site folder, then upload it when --site-dir is on S3."""
    bench.load_builtins()
    storage = open_results(args.output_path)
    conf_path = _conf_path(args.conf_path)
    _check_suite(storage, args.suite, conf_path)
    to_s3 = bool(args.site_dir) and args.site_dir.startswith(S3_SCHEME)
    site_dir = Path(args.site_dir) if args.site_dir and not to_s3 else default_site_dir(args.output_path, args.suite)
    forget_other_source(site_dir, storage.describe())
    result = present_suite(
        storage,
        args.suite,
        site_dir,
        conf_path=conf_path,
        models=args.models,
        max_priority=args.priority,
        stale_after=args.stale_after,
    )
    return result, publish_site(site_dir, args.site_dir) if to_s3 else None


if __name__ == "__main__":
    sys.exit(main())
